// The build history (BuildKit v0.11's ListenBuildHistory / UpdateBuildHistory, Status replay,
// the daemon's content service) as BuildKit's buildctl reads it: `debug monitor`, `debug logs`,
// `debug get`, `debug ctl`, each run against buildkitd v0.11.6 and against `buildkit serve`,
// with the same outcomes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LINUX_AMD64, mkfile, scratch } from "../../../src/core/llb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { DaemonDir } from "../../fixtures/daemon-dir.ts";
import { BUILDCTL } from "../cache-remote/peer-dockerfile.ts";
import { buildkitdAvailable, startPeerAndServe, type PeerAndServe, type TestDaemon } from "../client/daemons.ts";

const SUITE = "build history with buildctl";
const run = requireIntegration(SUITE, { runc: true, busybox: true, tools: [] }) && buildkitdAvailable(SUITE);
let work: DaemonDir;
let daemons: PeerAndServe;

beforeAll(async () => {
  if (!run) return;
  work = new DaemonDir("bk-history-");
  daemons = await startPeerAndServe(work.dir, "127.0.0.1:1");
}, 60_000);
afterAll(async () => {
  await daemons?.stop();
  work?.removeAll();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** buildctl against daemon; a long-running command (monitor) is stopped once `until` is in its stdout. */
async function buildctl(daemon: TestDaemon, args: string[], opts: { stdin?: Uint8Array; until?: string } = {}): Promise<Run> {
  const p = Bun.spawn([BUILDCTL, "--addr", daemon.addr, ...args], { stdin: opts.stdin ? new Blob([opts.stdin]) : "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill(), 30_000);
  let stdout = "";
  const reader = p.stdout.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    stdout += new TextDecoder().decode(value);
    if (opts.until !== undefined && stdout.includes(opts.until)) {
      await Bun.sleep(300); // the rest of that event's lines
      p.kill();
    }
  }
  const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Builds a small definition and returns its ref. */
async function build(daemon: TestDaemon, content: string): Promise<string> {
  const refFile = join(work.temp("ref"), "ref");
  const def = scratch().file(mkfile("/hello", 0o644, content)).marshal({ platform: LINUX_AMD64 });
  const r = await buildctl(daemon, ["build", "--ref-file", refFile, "--output", `type=local,dest=${work.temp("out")}`], { stdin: def });
  expect(r.code).toBe(0);
  return readFileSync(refFile, "utf8").trim();
}

describe.skipIf(!run)(SUITE, () => {
  for (const kind of ["buildkitd", "serve"] as const) {
    const daemon = () => (kind === "serve" ? daemons.serve : daemons.peer);

    test(`${kind}: debug monitor --completed lists finished builds with their steps and logs; debug logs replays one`, async () => {
      const first = await build(daemon(), `first ${kind}`);
      const cached = await build(daemon(), `first ${kind}`);
      const monitor = await buildctl(daemon(), ["debug", "monitor", "--completed"], { until: `ref:${cached}` });
      // Two steps: the file op and the local export (BuildKit counts the exporter's vertex too).
      expect(monitor.stdout).toContain(`event: COMPLETE ref:${first}\n  cache: 0/2\n  logs: `);
      expect(monitor.stdout).toContain(`event: COMPLETE ref:${cached}\n  cache: 1/2\n  logs: `);
      expect(monitor.stdout).toContain("application/vnd.buildkit.status.v0");
      // Every result gets a mode=max provenance in its record, asked for or not.
      const attestation = new RegExp(`event: COMPLETE ref:${first}\\n(?:  .*\\n)*?  attestation: media_type:"application/vnd.in-toto\\+json" digest:"(sha256:[0-9a-f]{64})" size:\\d+ annotations:<key:"in-toto.io/predicate-type" value:"https://slsa.dev/provenance/v0.2" >`).exec(monitor.stdout);
      expect(attestation).not.toBeNull();
      const got = Bun.spawnSync([BUILDCTL, "--addr", daemon().addr, "debug", "get", attestation![1]!], { stdout: "pipe" });
      const predicate = JSON.parse(got.stdout.toString()) as { buildType: string; invocation: { parameters: Record<string, unknown> }; buildConfig?: { llbDefinition: unknown[] }; metadata: Record<string, unknown> };
      expect(predicate.buildType).toBe("https://mobyproject.org/buildkit@v1");
      expect(Object.keys(predicate)).toEqual(["builder", "buildType", "invocation", "buildConfig", "metadata"]);
      expect(predicate.buildConfig?.llbDefinition.length).toBe(2); // as buildkitd lists this definition (the file op and the final one)

      const logs = await buildctl(daemon(), ["debug", "logs", "--progress", "plain", first]);
      expect(logs.code).toBe(0);
      expect(logs.stdout + logs.stderr).toContain("mkfile /hello");
    }, 60_000);

    test(`${kind}: debug get reads a record's log blob by digest; debug ctl pins and deletes records`, async () => {
      const ref = await build(daemon(), `second ${kind}`);
      const monitor = await buildctl(daemon(), ["debug", "monitor", "--completed", "--ref", ref], { until: "logs:" });
      const digest = /digest:"(sha256:[0-9a-f]{64})"/.exec(monitor.stdout)?.[1];
      expect(digest).toBeDefined();
      const get = Bun.spawnSync([BUILDCTL, "--addr", daemon().addr, "debug", "get", digest!], { stdout: "pipe", stderr: "pipe" });
      expect(get.exitCode).toBe(0);
      expect(`sha256:${new Bun.CryptoHasher("sha256").update(get.stdout).digest("hex")}`).toBe(digest!);

      expect((await buildctl(daemon(), ["debug", "ctl", ref, "--pin"])).code).toBe(0);
      expect((await buildctl(daemon(), ["debug", "ctl", ref, "--delete"])).code).toBe(0);
      // BuildKit then refuses to follow the deleted ref (while a listener it had lingers; we, always).
      const after = await buildctl(daemon(), ["debug", "monitor", "--completed", "--ref", ref], { until: "event:" });
      expect(after.stdout).not.toContain(`ref:${ref}`);
      if (kind === "serve") expect(after.stderr).toContain(`ref ${ref} is deleted`);
    }, 60_000);
  }

  test("a build that fails is recorded too, with its error (buildkit serve)", async () => {
    const refFile = join(work.temp("ref"), "ref");
    const bad = scratch().file(mkfile("/x", 0o644, "x")).run({ args: ["/no/such/program"] }).root().marshal({ platform: LINUX_AMD64 });
    const r = await buildctl(daemons.serve, ["build", "--ref-file", refFile], { stdin: bad });
    expect(r.code).not.toBe(0);
    const ref = readFileSync(refFile, "utf8").trim();
    const monitor = await buildctl(daemons.serve, ["debug", "monitor", "--completed", "--ref", ref], { until: "logs:" });
    expect(monitor.stdout).toContain(`event: COMPLETE ref:${ref}`);
  }, 60_000);
});
