// oci-layout:// sources and `context:NAME=oci-layout://STORE@DIGEST` named contexts, against
// buildkitd v0.11.6 from ../shared/peers: an OCI layout directory (Debian's busybox-static, two
// platforms behind an index) given as `--oci-layout STORE=DIR` by BuildKit's buildctl to
// buildkitd and to our `buildkit serve`, by our client to both, and to a daemonless build,
// gives the same files; a digest the layout lacks and a store the client does not serve are
// one-line errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { copy, hostPlatform, LINUX_AMD64, LINUX_ARM64, ociLayout, scratch, type Platform } from "../../../src/core/llb/index.ts";
import { makeBusyboxImage, type ImageLayout } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { BUILDCTL } from "../cache-remote/peer-dockerfile.ts";
import { copyProject } from "../exporters/helpers.ts";
import { buildkitdAvailable, runClient, startPeerAndServe, type PeerAndServe } from "./daemons.ts";

const run = requireIntegration("oci-layout sources against BuildKit", { runc: true, busybox: true }) && buildkitdAvailable("oci-layout sources against BuildKit");

const STORE = "bb";
let h: BuildHarness;
let daemons: PeerAndServe;
let layout: ImageLayout;
let def: Uint8Array;

/** Each file under dir and its text, sorted: "path: first line". */
function filesUnder(dir: string): string {
  return Bun.spawnSync(["sh", "-c", `cd ${dir} && find . -type f | sort | while read f; do printf '%s: %s\\n' "\${f#./}" "$(head -n1 "$f")"; done`]).stdout.toString();
}

/** The host's platform and another: the source must pick the host's manifest from the index. */
function platforms(): Platform[] {
  const host = hostPlatform();
  return [host, host.architecture === "arm64" ? LINUX_AMD64 : LINUX_ARM64];
}

/** Files of the layout's image copied into scratch (a source named as BuildKit's frontend names one, with a host and path). */
function definition(ref: string, storeId = STORE): Uint8Array {
  const src = ociLayout(ref, { storeId });
  return scratch().file(copy(src, "/hello.txt", "/hello.txt")).file(copy(src, "/etc/buildkit-ts-image", "/image.txt")).marshal({ platform: hostPlatform() });
}

async function buildctl(addr: string, args: string[], stdin?: Uint8Array): Promise<{ code: number; stderr: string }> {
  const p = Bun.spawn([BUILDCTL, "--addr", addr, "build", "--progress", "plain", ...args], { stdin: stdin ? new Blob([stdin]) : "ignore", stdout: "ignore", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 120_000);
  const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stderr };
}

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  layout = await makeBusyboxImage({ dir: h.temp("layout"), platforms: platforms(), extraFiles: { "hello.txt": "hello from the layout\n" } });
  def = definition(`docker.io/library/bb@${layout.digest}`);
  // The registry host is never used: everything comes from the layout.
  daemons = await startPeerAndServe(h.temp("config"), "127.0.0.1:9");
}, 120_000);
afterAll(async () => {
  await daemons?.stop();
  h?.cleanup();
});

describe.skipIf(!run)("oci-layout sources, as BuildKit v0.11.6 reads them", () => {
  test("a definition with an oci-layout source: buildctl --oci-layout on buildkitd and on our daemon, our client on both, daemonless: the same files", async () => {
    const trees: Record<string, string> = {};
    for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
      const dest = h.temp("out");
      const r = await buildctl(addr, ["--oci-layout", `${STORE}=${layout.layoutDir}`, "--output", `type=local,dest=${dest}`], def);
      if (r.code !== 0) console.log(who, r.stderr);
      expect(r.code).toBe(0);
      trees[`buildctl-${who}`] = filesUnder(dest);
      const ours = h.temp("out");
      const c = await runClient(["build", "--addr", addr, "--progress", "plain", "--oci-layout", `${STORE}=${layout.layoutDir}`, "--output", `type=local,dest=${ours}`], { stdin: def });
      if (c.code !== 0) console.log(who, c.stderr);
      expect(c.code).toBe(0);
      trees[`client-${who}`] = filesUnder(ours);
    }
    const dest = h.temp("out");
    const r = await h.build(def, ["--oci-layout", `${STORE}=${layout.layoutDir}`, "--output", `type=local,dest=${dest}`]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    trees.daemonless = filesUnder(dest);
    expect(trees["buildctl-peer"]).toBe("hello.txt: hello from the layout\nimage.txt: busybox test image\n");
    for (const who of ["buildctl-serve", "client-peer", "client-serve", "daemonless"]) expect(`${who}: ${trees[who]}`).toBe(`${who}: ${trees["buildctl-peer"]}`);
  }, 240_000);

  test("a Dockerfile's COPY --from NAME with context:NAME=oci-layout://STORE@DIGEST: the same files on buildkitd, our daemon and daemonless", async () => {
    const dockerfile = "FROM scratch\nCOPY --from=bb /hello.txt /from-layout.txt\nCOPY --from=bb /etc/buildkit-ts-image /image.txt\n";
    const args = copyProject((n) => h.temp(n), dockerfile, ["--opt", `context:bb=oci-layout://${STORE}@${layout.digest}`, "--oci-layout", `${STORE}=${layout.layoutDir}`]);
    const trees: Record<string, string> = {};
    for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
      const dest = h.temp("out");
      const r = await buildctl(addr, [...args, "--output", `type=local,dest=${dest}`]);
      if (r.code !== 0) console.log(who, r.stderr);
      expect(r.code).toBe(0);
      trees[who] = filesUnder(dest);
    }
    const dest = h.temp("out");
    const r = await h.build(new Uint8Array(), [...args, "--output", `type=local,dest=${dest}`]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    trees.daemonless = filesUnder(dest);
    expect(trees.peer).toBe("from-layout.txt: hello from the layout\nimage.txt: busybox test image\n");
    expect(trees.serve).toBe(trees.peer!);
    expect(trees.daemonless).toBe(trees.peer!);
  }, 240_000);

  test("FROM a stage named by an oci-layout context takes the layout image's config: the same image digest on buildkitd, our daemon and daemonless", async () => {
    const args = copyProject((n) => h.temp(n), "FROM bb\nCOPY a.txt /a.txt\n", [
      "--opt", "build-arg:SOURCE_DATE_EPOCH=1700000000",
      "--opt", `context:bb=oci-layout://${STORE}@${layout.digest}`,
      "--oci-layout", `${STORE}=${layout.layoutDir}`,
    ]);
    const digests: Record<string, string> = {};
    const digestIn = async (dir: string) => (JSON.parse(await Bun.file(join(dir, "md.json")).text()) as Record<string, string>)["containerimage.digest"];
    for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
      const dir = h.temp("out");
      const r = await buildctl(addr, [...args, "--metadata-file", join(dir, "md.json"), "--output", `type=oci,dest=${join(dir, "i.tar")},compression=uncompressed`]);
      if (r.code !== 0) console.log(who, r.stderr);
      expect(r.code).toBe(0);
      digests[who] = (await digestIn(dir)) ?? "";
    }
    const dir = h.temp("out");
    const r = await h.build(new Uint8Array(), [...args, "--metadata-file", join(dir, "md.json"), "--output", `type=oci,dest=${join(dir, "i.tar")},compression=uncompressed`]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    digests.daemonless = (await digestIn(dir)) ?? "";
    expect(digests.peer).toMatch(/^sha256:/);
    expect(digests.serve).toBe(digests.peer!);
    expect(digests.daemonless).toBe(digests.peer!);
  }, 240_000);

  test("attest:provenance lists the layout's image among the materials as buildkitd does (a definition, and a Dockerfile context)", async () => {
    const project = copyProject((n) => h.temp(n), "FROM bb\nCOPY a.txt /a.txt\n", ["--opt", `context:bb=oci-layout://${STORE}@${layout.digest}`]);
    for (const [args, stdin] of [[[], def], [project, undefined]] as const) {
      const materials: Record<string, unknown> = {};
      for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
        const dest = h.temp("prov");
        const r = await buildctl(addr, [...args, "--oci-layout", `${STORE}=${layout.layoutDir}`, "--opt", "attest:provenance=mode=min", "--output", `type=local,dest=${dest}`], stdin);
        if (r.code !== 0) console.log(who, r.stderr);
        expect(r.code).toBe(0);
        materials[who] = (JSON.parse(await Bun.file(join(dest, "provenance.json")).text()) as { predicate: { materials?: unknown } }).predicate.materials;
      }
      expect(materials.peer).toBeDefined();
      expect(materials.serve).toEqual(materials.peer);
    }
  }, 240_000);

  test("a digest the layout lacks and a store the client does not serve: one-line errors, daemonless and through our daemon", async () => {
    const missing = definition(`docker.io/library/bb@sha256:${"0".repeat(64)}`);
    const other = definition(`docker.io/library/bb@${layout.digest}`, "other");
    const layoutFlag = ["--oci-layout", `${STORE}=${layout.layoutDir}`];
    const d1 = await h.build(missing, layoutFlag);
    expect(d1.code).toBe(1);
    expect(d1.stderr).toContain(`no such digest in the client's OCI layout "${STORE}"`);
    const d2 = await h.build(other, layoutFlag);
    expect(d2.code).toBe(1);
    expect(d2.stderr).toContain(`the client serves no OCI layout "other" (give one with --oci-layout other=DIR)`);
    const s1 = await runClient(["build", "--addr", daemons.serve.addr, "--progress", "plain", ...layoutFlag], { stdin: missing });
    expect(s1.code).toBe(1);
    expect(s1.stderr).toContain(`no such digest in the client's OCI layout "${STORE}"`);
    // buildctl serves only the stores it was given: "oci:other" is unknown to it.
    const s2 = await buildctl(daemons.serve.addr, layoutFlag, other);
    expect(s2.code).not.toBe(0);
    expect(s2.stderr).toContain("the client serves no content store oci:other");
    // The errors are one line each (the last line of our CLI's stderr).
    for (const r of [d1, d2, s1]) expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^error: .*oci-layout:\/\/docker\.io\/library\/bb@sha256:/);
    // A bad flag is a usage error.
    const bad = await h.build(def, ["--oci-layout", `${STORE}=${join(h.dir, "no-such-dir")}`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("is not a directory");
  }, 240_000);
});
