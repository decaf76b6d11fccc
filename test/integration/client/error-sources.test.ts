// A failing step that the definition's source map places in a (fake) Dockerfile: every way of
// building it prints the Dockerfile's lines before `error:`, as BuildKit's buildctl does against
// its own buildkitd. The definition is made here by hand (our LLB plus a pb.Source), so the
// test does not depend on a frontend: daemonless, our CLI against buildkitd v0.11.6 and against
// `buildkit serve`, and buildctl against `buildkit serve`, each compared with buildctl against buildkitd.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { local, LINUX_AMD64 } from "../../../src/core/llb/index.ts";
import { sha256 } from "../../../src/core/digest.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { buildctlAvailable, BUILDCTL } from "../serve/daemon.ts";
import { buildkitdAvailable, PeerDaemon, runClient, serveDaemon, type TestDaemon } from "./daemons.ts";

const run =
  requireIntegration("build errors with their source lines", { runc: true, busybox: true }) &&
  buildkitdAvailable("build errors with their source lines") &&
  buildctlAvailable("build errors with their source lines");

const DOCKERFILE = "FROM busybox\nCOPY . /\nRUN echo one \\\n  && exit 3\nENV DONE=1\n";

/** The definition: the rootfs local, then `exit 3`, located at lines 3-4 and at line 1 of the Dockerfile. */
function failingDefinition(): Uint8Array {
  const state = local("rootfs").run({ args: ["/bin/sh", "-c", "echo one && exit 3"] }).root();
  const def = pb.Definition.decode(state.marshal({ platform: LINUX_AMD64 }));
  const execOp = def.def.find((bytes) => pb.Op.decode(bytes).exec);
  if (!execOp) throw new Error("no exec op in the definition");
  const infoDef = pb.Definition.encode({ def: [def.def[0]!] }).finish();
  def.Source = pb.Source.create({
    locations: {
      [sha256(execOp)]: {
        locations: [
          { sourceIndex: 0, ranges: [{ start: { line: 3 }, end: { line: 4 } }] },
          { sourceIndex: 0, ranges: [{ start: { line: 1 }, end: { line: 1 } }] },
        ],
      },
    },
    infos: [{ filename: "Dockerfile", data: new TextEncoder().encode(DOCKERFILE), definition: pb.Definition.decode(infoDef) }],
  });
  return pb.Definition.encode(def).finish();
}

/** The source excerpts in a command's stderr (Go's Source.Print blocks), in order. */
function excerpts(stderr: string): string[] {
  return stderr.match(/^\S[^\n]*:\d+\n-{20}\n(?: +\d+ \| (?:>>>| {3}) [^\n]*\n)*-{20}\n/gm) ?? [];
}

const LINES_3_4 = `Dockerfile:3
--------------------
   2 |     COPY . /
   3 | >>> RUN echo one \\
   4 | >>>   && exit 3
   5 |     ENV DONE=1
--------------------
`;
const LINE_1 = `Dockerfile:1
--------------------
   1 | >>> FROM busybox
   2 |     COPY . /
   3 |     RUN echo one \\
--------------------
`;

describe.if(run)("build errors with their source lines", () => {
  let h: BuildHarness;
  let peer: PeerDaemon | undefined;
  let serve: TestDaemon | undefined;
  const definition = failingDefinition();
  let peerExcerpts: string[] = [];
  let peerError = "";

  beforeAll(async () => {
    h = new BuildHarness();
    peer = new PeerDaemon();
    serve = serveDaemon();
    await peer.start();
    await serve.start();
  }, 60_000);
  afterAll(async () => {
    await serve?.cleanup();
    await peer?.cleanup();
    h?.cleanup();
  });

  const buildctl = async (addr: string) => {
    const p = Bun.spawn([BUILDCTL, "--addr", addr, "build", "--progress", "plain", "--local", `rootfs=${h.rootfs}`], {
      stdin: new Blob([definition]),
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, BUILDKIT_HOST: "" },
    });
    const timer = setTimeout(() => p.kill(), 90_000);
    const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    clearTimeout(timer);
    return { code, stderr };
  };

  /** The excerpts come right before the last line, `error: …`. */
  const expectExcerptsThenError = (stderr: string, want: string[]) => {
    expect(excerpts(stderr)).toEqual(want);
    const lines = stderr.trimEnd().split("\n");
    expect(lines.at(-1)).toMatch(/^error: .*exit code: 3/);
    expect(stderr).toContain(`${want.join("")}error: `);
  };

  test("buildctl against buildkitd prints the excerpts (the reference)", async () => {
    const r = await buildctl(peer!.addr);
    expect(r.code).not.toBe(0);
    peerExcerpts = excerpts(r.stderr);
    peerError = r.stderr.trimEnd().split("\n").at(-1) ?? "";
    expect(peerError).toBe('error: failed to solve: process "/bin/sh -c echo one && exit 3" did not complete successfully: exit code: 3');
    // Both locations, reversed by the status's round trips through the gateway, as BuildKit does.
    expect([...peerExcerpts].sort()).toEqual([LINE_1, LINES_3_4].sort());
    expectExcerptsThenError(r.stderr, peerExcerpts);
  }, 120_000);

  test("buildctl against buildkit serve prints the same excerpts", async () => {
    expect(peerExcerpts.length).toBe(2);
    const r = await buildctl(serve!.addr);
    expect(r.code).not.toBe(0);
    expectExcerptsThenError(r.stderr, peerExcerpts);
    // The same message and code: no step name in it, no code name before it (UNKNOWN, as BuildKit's)
    expect(r.stderr.trimEnd().split("\n").at(-1)).toBe(peerError);
  }, 120_000);

  test("our CLI against buildkitd prints them", async () => {
    expect(peerExcerpts.length).toBe(2);
    const r = await runClient(["build", "--addr", peer!.addr, "--progress", "plain", "--local", `rootfs=${h.rootfs}`], { stdin: definition });
    expect(r.code).toBe(1);
    expectExcerptsThenError(r.stderr, peerExcerpts);
  }, 120_000);

  test("our CLI against buildkit serve prints them as against buildkitd", async () => {
    expect(peerExcerpts.length).toBe(2);
    const r = await runClient(["build", "--addr", serve!.addr, "--progress", "plain", "--local", `rootfs=${h.rootfs}`], { stdin: definition });
    expect(r.code).toBe(1);
    expectExcerptsThenError(r.stderr, peerExcerpts);
  }, 120_000);

  test("a daemonless build prints them, in the order the solver attached them", async () => {
    const r = await h.build(definition);
    expect(r.code).toBe(1);
    expectExcerptsThenError(r.stderr, [LINES_3_4, LINE_1]);
  }, 120_000);

  test("with --progress rawjson the sources are a field of the error notice", async () => {
    const r = await h.build(definition, ["--progress", "rawjson"]);
    expect(r.code).toBe(1);
    const last = JSON.parse(r.stderr.trimEnd().split("\n").at(-1)!) as { type: string; error: string; sources?: { filename: string; excerpt: string; ranges: unknown[] }[] };
    expect(last.type).toBe("error");
    expect(last.sources?.map((s) => s.excerpt)).toEqual([LINES_3_4, LINE_1]);
    expect(last.sources?.[0]?.ranges).toEqual([{ start: { line: 3, character: 0 }, end: { line: 4, character: 0 } }]);
  }, 120_000);
});
