// attest:sbom against buildkitd v0.11.6 from ../shared/peers, with a stand-in scanner image: a
// busybox whose Entrypoint writes deterministic in-toto statements (the files it finds under
// $BUILDKIT_SCAN_SOURCE, the BUILDKIT_SCAN_* variables it is given, whether /tmp is writable
// and the source read-only) into $BUILDKIT_SCAN_DESTINATION. The same builds on BuildKit and on
// our daemon (both driven by the peer's buildctl): a Dockerfile and a plain definition, to an
// OCI archive and a local directory; the index, attestation manifest and statements must agree.
// Also daemonless, and the errors of an empty or unreachable generator.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { makeBusyboxImage, pushImage, startBusyboxRegistry } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "../build/harness.ts";
import { buildkitdAvailable, startPeerAndServe, type PeerAndServe } from "../client/daemons.ts";
import { image, LINUX_AMD64, mkfile } from "../../../src/core/llb/index.ts";
import { BUILDCTL } from "../cache-remote/peer-dockerfile.ts";
import { copyProject } from "./helpers.ts";

const run = requireIntegration("SBOM attestations against BuildKit", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) && buildkitdAvailable("SBOM attestations against BuildKit");

let h: BuildHarness;
let registry: TestRegistry;
let daemons: PeerAndServe;
let scanner = "";

// The core statement's "files" are strings, not SPDX file objects: BuildKit's image exporter then
// cannot decode it as SPDX and leaves it as the scanner wrote it (supplementSBOM, which we lack).
const SCAN_SCRIPT = `#!/bin/sh
set -e
list() { sed 's|"|\\\\"|g; s|.*|"&"|' | tr '\\n' ',' | sed 's/,$//'; }
files=$(cd "$BUILDKIT_SCAN_SOURCE" && find . -type f | sed 's|^\\./||' | sort | list)
envs=$(env | grep -E '^(BUILDKIT_SCAN|SCANNER_)' | sort | list)
srcs=$(ls /run/src | list)
extras=$(ls /run/src/extras 2>/dev/null | list)
ctxfiles=$( (cd /run/src/extras/sbom-context 2>/dev/null && find . -type f) | sed 's|^\\./||' | sort | list)
tmp=no; touch /tmp/x 2>/dev/null && tmp=yes
ro=no; touch "$BUILDKIT_SCAN_SOURCE/.w" 2>/dev/null || ro=yes
printf '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[],"predicate":{"spdxVersion":"SPDX-2.3","name":"test-scan","files":[%s],"env":[%s],"src":[%s],"extras":[%s],"contextFiles":[%s],"cwd":"%s","tmpWritable":"%s","sourceReadonly":"%s","args":"%s"}}\\n' "$files" "$envs" "$srcs" "$extras" "$ctxfiles" "$(pwd)" "$tmp" "$ro" "$*" > "$BUILDKIT_SCAN_DESTINATION/sbom.spdx.json"
printf '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[{"name":"custom","digest":{"sha256":"%s"}}],"predicate":{"z":1,"a":"extra"}}' 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef > "$BUILDKIT_SCAN_DESTINATION/a-extra.spdx.json"
`;

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  registry = await startBusyboxRegistry(h.temp("image"));
  const layout = await makeBusyboxImage({ dir: h.temp("scanner"), executables: { "scan.sh": SCAN_SCRIPT }, config: { Entrypoint: ["/scan.sh"], Cmd: ["from-cmd"], Env: ["PATH=/bin", "SCANNER_IMAGE=yes"] } });
  scanner = `${registry.host}/test/scanner:latest`;
  await pushImage(layout.layoutDir, scanner);
  daemons = await startPeerAndServe(h.temp("config"), registry.host);
}, 120_000);
afterAll(async () => {
  await daemons?.stop();
  await registry?.stop();
  h?.cleanup();
});

const dockerfile = () => `FROM ${registry.host}/test/busybox:latest
COPY a.txt /a.txt
RUN echo built > /b.txt
`;
type Json = Record<string, unknown>;

function buildctl(addr: string, args: string[], stdin?: Uint8Array) {
  return Bun.spawnSync([BUILDCTL, "--addr", addr, "build", "--progress", "plain", ...args], { timeout: 180_000, ...(stdin ? { stdin } : {}) });
}

/** The OCI archive's top index, the image manifest's descriptor and each attestation layer's statement. */
function readArchive(tar: string): { index: Json; image: Json; attestation: Json; statements: Json[]; buildinfo: Json | undefined } {
  const dir = h.temp("x");
  expect(Bun.spawnSync(["tar", "-xf", tar, "-C", dir]).exitCode).toBe(0);
  const blob = (d: string) => JSON.parse(readFileSync(join(dir, "blobs", "sha256", d.slice(7)), "utf8")) as Json;
  const top = blob(((JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as Json).manifests as Json[])[0]!.digest as string);
  const manifests = top.manifests as Json[];
  const att = blob(manifests[1]!.digest as string);
  const config = blob(((blob(manifests[0]!.digest as string).config as Json).digest as string));
  const info = config["moby.buildkit.buildinfo.v1"];
  const buildinfo = typeof info === "string" ? (JSON.parse(Buffer.from(info, "base64").toString()) as Json) : undefined;
  return { index: top, image: manifests[0]!, attestation: att, statements: (att.layers as Json[]).map((l) => blob(l.digest as string)), buildinfo };
}

/** What must agree: the structure of index and attestation manifest; the SBOM statements whole; the provenance's type only. */
function comparable(a: ReturnType<typeof readArchive>): Json {
  return {
    // Build information's sources: the scanner image is among them, as BuildKit's bridge recorded its resolution.
    buildinfoSources: a.buildinfo?.sources,
    index: { mediaType: a.index.mediaType, manifests: (a.index.manifests as Json[]).map((m) => ({ mediaType: m.mediaType, platform: m.platform, annotationKeys: Object.keys((m.annotations as Json) ?? {}) })) },
    attestation: { mediaType: a.attestation.mediaType, layers: (a.attestation.layers as Json[]).map((l) => ({ mediaType: l.mediaType, annotations: l.annotations })) },
    // The provenance's materials: does the scanner image count as a source of the build?
    statements: a.statements.map((s) => (s.predicateType === "https://spdx.dev/Document" ? { ...s, subject: (s.subject as Json[]).map((x) => x.name) } : { predicateType: s.predicateType, materials: (s.predicate as Json).materials })),
  };
}

const generator = () => `attest:sbom=generator=${scanner}`;

describe.skipIf(!run)("attest:sbom, BuildKit v0.11.6 and ours", () => {
  test("Dockerfile, type=oci, with provenance: same index, attestation manifest and statements; what the scanner was given", () => {
    const args = copyProject((n) => h.temp(n), dockerfile(), ["--opt", generator(), "--opt", "attest:provenance=mode=min"]);
    const got: Record<string, ReturnType<typeof readArchive>> = {};
    for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
      const tar = join(h.temp("out"), "i.tar");
      const r = buildctl(addr, ["--output", `type=oci,dest=${tar},name=${registry.host}/out/img:1`, ...args]);
      if (r.exitCode !== 0) console.log(who, r.stderr.toString());
      expect(r.exitCode).toBe(0);
      got[who] = readArchive(tar);
    }
    const peer = got.peer!;
    expect(peer.statements.map((s) => s.predicateType)).toEqual(["https://spdx.dev/Document", "https://spdx.dev/Document", "https://slsa.dev/provenance/v0.2"]);
    const core = peer.statements[0]!;
    expect(core.subject).toEqual([{ name: `pkg:docker/${registry.host.replace(":", "%3A")}/out/img@1?platform=linux%2Famd64`, digest: { sha256: (peer.image.digest as string).slice(7) } }]);
    expect(peer.statements[1]!.subject).toEqual([{ name: "custom", digest: { sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" } }]);
    const pred = core.predicate as Json;
    expect(pred.env).toEqual(["BUILDKIT_SCAN_DESTINATION=/run/out/", "BUILDKIT_SCAN_SOURCE=/run/src/core/sbom", "SCANNER_IMAGE=yes"]);
    expect(pred).toMatchObject({ src: ["core"], cwd: "/", tmpWritable: "yes", sourceReadonly: "yes", args: "from-cmd" });
    expect(pred.files as string[]).toEqual(expect.arrayContaining(["a.txt", "b.txt", "bin/busybox"]));
    expect(comparable(got.serve!)).toEqual(comparable(peer));
  }, 240_000);

  test("Dockerfile with BUILDKIT_SBOM_SCAN_CONTEXT and BUILDKIT_SBOM_SCAN_STAGE: the context and the stage scanned beside the result", () => {
    const df = `ARG BUILDKIT_SBOM_SCAN_CONTEXT=true
FROM ${registry.host}/test/busybox:latest AS base
ARG BUILDKIT_SBOM_SCAN_STAGE=true
RUN echo base > /base.txt
FROM base
COPY a.txt /a.txt
`;
    const args = copyProject((n) => h.temp(n), df, ["--opt", generator()]);
    const got: Record<string, ReturnType<typeof readArchive>> = {};
    for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
      const tar = join(h.temp("out"), "i.tar");
      const r = buildctl(addr, ["--output", `type=oci,dest=${tar}`, ...args]);
      if (r.exitCode !== 0) console.log(who, r.stderr.toString());
      expect(r.exitCode).toBe(0);
      got[who] = readArchive(tar);
    }
    const pred = got.peer!.statements[0]!.predicate as Json;
    expect(pred).toMatchObject({ src: ["core", "extras"], extras: ["sbom-base", "sbom-context"], contextFiles: ["a.txt"] });
    expect(pred.env).toContain("BUILDKIT_SCAN_SOURCE_EXTRAS=/run/src/extras");
    expect(comparable(got.serve!)).toEqual(comparable(got.peer!));
  }, 240_000);

  test("plain definition, type=local: the statement files beside the result's, subjects the exported files", () => {
    const def = image(`${registry.host}/test/busybox:latest`).file(mkfile("/hello", 0o644, "hi\n")).marshal({ platform: LINUX_AMD64 });
    const out: Record<string, { files: string[]; core: Json; extra: Json }> = {};
    for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
      const dest = h.temp("local");
      const r = buildctl(addr, ["--opt", generator(), "--opt", "attestation-prefix=x", "--output", `type=local,dest=${dest},attestation-prefix=att-`], def);
      if (r.exitCode !== 0) console.log(who, r.stderr.toString());
      expect(r.exitCode).toBe(0);
      const read = (n: string) => JSON.parse(readFileSync(join(dest, n), "utf8")) as Json;
      out[who] = { files: readdirSync(dest).sort(), core: read("att-sbom.spdx.json"), extra: read("att-a-extra.spdx.json") };
    }
    expect(out.peer!.files).toContain("att-sbom.spdx.json");
    expect(out.serve).toEqual(out.peer!);
    expect((out.peer!.core.subject as Json[]).map((s) => s.name)).toContain("hello");
  }, 240_000);

  test("two platforms (type=oci, type=tar) and a plain definition (type=oci): each result scanned and attested as BuildKit does", () => {
    const project = copyProject((n) => h.temp(n), "FROM scratch\nCOPY a.txt /a.txt\n", ["--opt", generator(), "--opt", "platform=linux/amd64,linux/arm64"]);
    const def = image(`${registry.host}/test/busybox:latest`).file(mkfile("/hello", 0o644, "hi\n")).marshal({ platform: LINUX_AMD64 });
    const cases: [string, string[], Uint8Array | undefined][] = [
      ["platforms", project, undefined],
      ["plain", ["--opt", generator(), "--opt", "attest:provenance=mode=min"], def],
    ];
    for (const [name, args, stdin] of cases) {
      const got: Record<string, { buildinfo: unknown; index: Json; atts: Json[][]; tar: string[] }> = {};
      for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
        const out = h.temp("out");
        // v0.11 takes one exporter per build.
        for (const output of [`type=oci,dest=${join(out, "i.tar")}`, `type=tar,dest=${join(out, "f.tar")}`]) {
          const r = buildctl(addr, ["--output", output, ...args], stdin);
          if (r.exitCode !== 0) console.log(who, name, r.stderr.toString());
          expect(r.exitCode).toBe(0);
        }
        const dir = h.temp("x");
        expect(Bun.spawnSync(["tar", "-xf", join(out, "i.tar"), "-C", dir]).exitCode).toBe(0);
        const blob = (d: string) => JSON.parse(readFileSync(join(dir, "blobs", "sha256", d.slice(7)), "utf8")) as Json;
        const top = blob(((JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as Json).manifests as Json[])[0]!.digest as string);
        const manifests = top.manifests as Json[];
        const atts = manifests.filter((m) => (m.platform as Json).os === "unknown").map((m) => ((blob(m.digest as string).layers as Json[]).map((l) => blob(l.digest as string))));
        const tar = Bun.spawnSync(["tar", "-tvf", join(out, "f.tar")]).stdout.toString().trim().split("\n").map((l) => { const f = l.split(/\s+/); return `${f[0]} ${f.at(-1)}`; });
        const config = blob((blob(manifests[0]!.digest as string).config as Json).digest as string);
        const info = config["moby.buildkit.buildinfo.v1"];
        const buildinfo = typeof info === "string" ? ((JSON.parse(Buffer.from(info, "base64").toString()) as Json).sources as Json[]).map((x) => x.ref) : undefined;
        got[who] = { buildinfo, index: { manifests: manifests.map((m) => ({ platform: m.platform, annotationKeys: Object.keys((m.annotations as Json) ?? {}) })) }, atts, tar };
      }
      // The controller's processor (a plain definition) leaves the scanner out of the build's sources; the Dockerfile frontend's scan does not.
      const shape = (g: { buildinfo: unknown; index: Json; atts: Json[][]; tar: string[] }) => ({
        buildinfo: g.buildinfo,
        index: g.index,
        // The statement files among the tar's (the result's own files are the tar exporter's business).
        tar: g.tar.filter((l) => l.endsWith(".json")),
        atts: g.atts.map((layers) => layers.map((st) => ({ predicateType: st.predicateType, subjects: (st.subject as Json[]).map((x) => x.name), files: (st.predicate as Json).files, materials: (st.predicate as Json).materials }))),
      });
      expect(shape(got.serve!)).toEqual(shape(got.peer!));
    }
  }, 240_000);

  test("an empty generator fails as BuildKit's controller does; an unreachable one with one clear line", () => {
    const def = image(`${registry.host}/test/busybox:latest`).marshal({ platform: LINUX_AMD64 });
    for (const addr of [daemons.peer.addr, daemons.serve.addr]) {
      const r = buildctl(addr, ["--opt", "attest:sbom=generator="], def);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr.toString()).toContain("sbom generator cannot be empty");
    }
    const r = buildctl(daemons.serve.addr, ["--opt", "attest:sbom=generator=127.0.0.1:1/no/scanner", "--output", `type=local,dest=${h.temp("x")}`], def);
    expect(r.exitCode).not.toBe(0);
    const last = r.stderr.toString().trim().split("\n").at(-1)!;
    expect(last).toContain("resolving SBOM scanner image 127.0.0.1:1/no/scanner:latest");
  }, 240_000);

  test("daemonless: the same statements as the daemon's", async () => {
    const args = copyProject((n) => h.temp(n), dockerfile(), ["--opt", generator()]);
    const dir = h.temp("dl");
    mkdirSync(dir, { recursive: true });
    const r = await h.build(new Uint8Array(), ["--output", `type=oci,dest=${join(dir, "i.tar")},name=${registry.host}/out/img:1`, ...args]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    const tar = join(h.temp("out"), "i.tar");
    const p = buildctl(daemons.peer.addr, ["--output", `type=oci,dest=${tar},name=${registry.host}/out/img:1`, ...args]);
    expect(p.exitCode).toBe(0);
    expect(comparable(readArchive(join(dir, "i.tar")))).toEqual(comparable(readArchive(tar)));
    expect(h.leftoverMounts()).toEqual([]);
  }, 240_000);
});
