// A differential test of solve semantics: every definition in test/vectors/solve-go (made by
// BuildKit v0.11.6's Go client, see its README) is built by BuildKit's buildkitd and by our
// `buildkit serve`, each through BuildKit's buildctl, exported with the local exporter and with
// the tar exporter; the two trees must hold the same entries: path, type, mode with its special
// bits, owner (from the tar: buildctl's local receiver makes every file its own user's), size,
// content digest, symlink target, hard-link group and mtime where it is pinned. A time counts as
// pinned when either side's is older than the suite's start: set by the definition
// (WithCreatedTime, a copy keeping one) or kept from the image; a time taken during the build
// differs between any two builds and is not compared.
//
// `docker.io/library/busybox:latest` resolves offline: both daemons get one buildkitd.toml
// whose docker.io mirror is the test registry, where the busybox image is pushed under that name.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILDCTL } from "../../fixtures/peers.ts";
import { makeBusyboxImage, pushImage } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { REPO_ROOT } from "../../paths.ts";
import { buildkitdAvailable, startPeerAndServe, type PeerAndServe } from "../client/daemons.ts";
import { buildctlAvailable } from "../serve/daemon.ts";
import { readDirTree, readTarEntries, type DirEntry, type TarEntry } from "./tree-entries.ts";

const SUITE = "definitions from BuildKit's Go client, solved by buildkitd and by serve";
const run =
  requireIntegration(SUITE, { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) && buildkitdAvailable(SUITE) && buildctlAvailable(SUITE);

const VECTORS = join(REPO_ROOT, "test/vectors/solve-go");
interface IndexEntry {
  readonly name: string;
  readonly tests: string;
  readonly go: string;
}
const INDEX = JSON.parse(readFileSync(join(VECTORS, "INDEX.json"), "utf8")) as IndexEntry[];
const BUILD_TIMEOUT_MS = 60_000;

/**
 * Differences still open, by definition and path, with the reason. Each is still required to
 * differ, so a fix (or a change on either side) shows up as a failure here to clean up.
 */
const KNOWN: Readonly<Record<string, Readonly<Record<string, string>>>> = {};

/** Definitions our side still fails to build, with the reason and a piece of our error. */
const OPEN_FAILURES: Readonly<Record<string, { readonly reason: string; readonly error: string }>> = {};

interface Side {
  readonly ok: boolean;
  readonly error: string;
  readonly dir: Map<string, DirEntry>;
  readonly tar: Map<string, TarEntry>;
}

async function buildctl(addr: string, def: Uint8Array, output: string): Promise<{ code: number | null; stderr: string }> {
  const p = Bun.spawn([BUILDCTL, "--addr", addr, "build", "--progress", "plain", "--output", output], {
    stdin: new Blob([def]),
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, BUILDKIT_HOST: "" },
  });
  const timer = setTimeout(() => p.kill("SIGKILL"), BUILD_TIMEOUT_MS);
  const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stderr };
}

/** Builds def on one daemon, exported both ways, and reads what came out. */
async function solve(addr: string, def: Uint8Array, work: string): Promise<Side> {
  const dest = join(work, "local");
  const tarFile = join(work, "out.tar");
  const local = await buildctl(addr, def, `type=local,dest=${dest}`);
  if (local.code !== 0) return { ok: false, error: lastLines(local.stderr), dir: new Map(), tar: new Map() };
  const tar = await buildctl(addr, def, `type=tar,dest=${tarFile}`);
  if (tar.code !== 0) return { ok: false, error: `tar export: ${lastLines(tar.stderr)}`, dir: new Map(), tar: new Map() };
  return { ok: true, error: "", dir: readDirTree(dest), tar: readTarEntries(readFileSync(tarFile)) };
}

function lastLines(stderr: string): string {
  return stderr.trimEnd().split("\n").slice(-3).join("\n");
}

/**
 * An entry as compared: the mtime kept only when pinned (either side's is before `start`). In
 * the local export a time goes through fsutil's Stat.ModTime (int64 ns), which our file-sync
 * code holds as a float64 (src/api/session/filesync/packet.ts: exact to within 256 ns, a
 * deliberate choice), so there times are compared as float64s; the tar export has whole seconds.
 */
function comparable<E extends { mtimeNs: bigint }>(e: E | undefined, other: E | undefined, startNs: bigint): string {
  if (e === undefined) return "(absent)";
  const pinned = e.mtimeNs < startNs || (other !== undefined && other.mtimeNs < startNs);
  const { mtimeNs, ...rest } = e;
  return JSON.stringify({ ...rest, mtime: pinned ? String(Number(mtimeNs)) : "build time" });
}

/** Lines naming every path whose entries differ, with both sides' entries. */
function differences<E extends { mtimeNs: bigint }>(what: string, peer: Map<string, E>, ours: Map<string, E>, startNs: bigint, known: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const path of [...new Set([...peer.keys(), ...ours.keys()])].sort()) {
    const a = comparable(peer.get(path), ours.get(path), startNs);
    const b = comparable(ours.get(path), peer.get(path), startNs);
    const reason = known[`${what} ${path}`];
    if (a === b && reason !== undefined) out.push(`${what} ${path}: listed as known (${reason}) but now the same: remove it from KNOWN`);
    if (a === b || reason !== undefined) continue;
    out.push(`${what} ${path}\n    buildkitd: ${a}\n    serve:     ${b}`);
  }
  return out;
}

describe.if(run)(SUITE, () => {
  let registry: TestRegistry | undefined;
  let daemons: PeerAndServe | undefined;
  let work: string;
  const startNs = BigInt(Date.now() - 60_000) * 1_000_000n;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "bk-solve-go-"));
    registry = await startRegistry();
    const layout = await makeBusyboxImage({ dir: join(work, "layout") });
    await pushImage(layout.layoutDir, `${registry.host}/library/busybox:latest`);
    daemons = await startPeerAndServe(work, registry.host, `[registry."docker.io"]\n  mirrors = ["${registry.host}"]\n`);
  }, 120_000);
  afterAll(async () => {
    await daemons?.stop();
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const v of INDEX) {
    test(`${v.name}: ${v.tests}`, async () => {
      if (!daemons) throw new Error("daemons did not start");
      const def = readFileSync(join(VECTORS, `${v.name}.pb`));
      const dir = mkdtempSync(join(work, `${v.name}-`));
      const peerDir = mkdtempSync(join(dir, "peer-"));
      const oursDir = mkdtempSync(join(dir, "serve-"));
      const [peer, ours] = await Promise.all([solve(daemons.peer.addr, def, peerDir), solve(daemons.serve.addr, def, oursDir)]);
      expect({ peer: peer.error }).toEqual({ peer: "" });
      const open = OPEN_FAILURES[v.name];
      if (open !== undefined) {
        console.log(`${v.name}: serve fails (${open.reason}):\n${ours.error}`);
        expect(ours.error).toContain(open.error);
        rmSync(dir, { recursive: true, force: true });
        return;
      }
      expect({ serve: ours.error }).toEqual({ serve: "" });
      const known = KNOWN[v.name] ?? {};
      const diffs = [...differences("local", peer.dir, ours.dir, startNs, known), ...differences("tar", peer.tar, ours.tar, startNs, known)];
      if (diffs.length > 0) console.log(`${v.name}: ${diffs.length} difference(s)\n${diffs.join("\n")}`);
      expect(diffs).toEqual([]);
      expect(peer.dir.size).toBeGreaterThan(0);
      rmSync(dir, { recursive: true, force: true });
    }, 2 * BUILD_TIMEOUT_MS + 10_000);
  }
});
