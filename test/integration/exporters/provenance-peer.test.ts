// attest:provenance against buildkitd v0.11.6 from ../shared/peers: the same Dockerfile built by
// BuildKit and by our daemon (both driven by the peer's buildctl), mode=min and mode=max, to an
// OCI archive and to a local directory. The index (an image manifest and an attestation
// manifest per platform), the statement and the predicate must agree, apart from what differs
// by nature (times, invocation IDs, digests of our own layers and LLB). Also daemonless, and
// an empty attest:sbom generator refused with one clear line (sbom-peer.test.ts has the rest).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startBusyboxRegistry } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "../build/harness.ts";
import { buildkitdAvailable, runClient, startPeerAndServe, type PeerAndServe } from "../client/daemons.ts";
import { LINUX_AMD64, mkfile, scratch } from "../../../src/core/llb/index.ts";
import { BUILDCTL } from "../cache-remote/peer-dockerfile.ts";
import { copyProject } from "./helpers.ts";

const run = requireIntegration("provenance attestations against BuildKit", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) && buildkitdAvailable("provenance attestations against BuildKit");

let h: BuildHarness;
let registry: TestRegistry;
let daemons: PeerAndServe;

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  registry = await startBusyboxRegistry(h.temp("image"));
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

/** The OCI archive's top index, its manifests and the attestation's statement. */
function readArchive(tar: string): { index: Json; image: Json; attestation: Json; statement: Json } {
  const dir = h.temp("x");
  expect(Bun.spawnSync(["tar", "-xf", tar, "-C", dir]).exitCode).toBe(0);
  const blob = (d: string) => JSON.parse(readFileSync(join(dir, "blobs", "sha256", d.slice(7)), "utf8")) as Json;
  const top = (blob(((JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as Json).manifests as Json[])[0]!.digest as string));
  const manifests = top.manifests as Json[];
  const att = blob(manifests[1]!.digest as string);
  const statement = blob(((att.layers as Json[])[0]!).digest as string);
  return { index: top, image: manifests[0]!, attestation: att, statement };
}

/** What must agree: the structure of the index and statement, the predicate minus times, IDs and our own LLB. */
function comparable(a: ReturnType<typeof readArchive>): Json {
  const manifests = (a.index.manifests as Json[]).map((m) => ({ mediaType: m.mediaType, platform: m.platform, annotationKeys: Object.keys((m.annotations as Json) ?? {}) }));
  const layers = (a.attestation.layers as Json[]).map((l) => ({ mediaType: l.mediaType, annotations: l.annotations }));
  const st = a.statement;
  const pred = st.predicate as Json;
  const meta = pred.metadata as Json;
  return {
    index: { mediaType: a.index.mediaType, manifests },
    attestation: { mediaType: a.attestation.mediaType, config: (a.attestation.config as Json).mediaType, layers },
    statement: { _type: st._type, predicateType: st.predicateType, subjects: (st.subject as Json[]).map((s) => s.name) },
    predicate: {
      keys: Object.keys(pred),
      builder: pred.builder,
      buildType: pred.buildType,
      materials: pred.materials,
      invocation: pred.invocation,
      buildConfigKeys: pred.buildConfig === undefined ? undefined : Object.keys(pred.buildConfig as Json),
      metadataKeys: Object.keys(meta).filter((k) => k !== "https://mobyproject.org/buildkit@v1#metadata"),
      completeness: meta.completeness,
      reproducible: meta.reproducible,
      hermetic: meta["https://mobyproject.org/buildkit@v1#hermetic"],
    },
  };
}

function buildctl(addr: string, args: string[]) {
  return Bun.spawnSync([BUILDCTL, "--addr", addr, "build", "--progress", "plain", ...args], { timeout: 180_000 });
}

describe.skipIf(!run)("attest:provenance, BuildKit v0.11.6 and ours", () => {
  for (const mode of ["min", "max"]) {
    test(`mode=${mode}, type=oci: same index structure, statement and predicate; the subject is the build's own image manifest`, () => {
      const args = copyProject((n) => h.temp(n), dockerfile(), ["--opt", `attest:provenance=mode=${mode},builder-id=https://example.com/b`, "--opt", "build-arg:X=1"]);
      const got: Record<string, ReturnType<typeof readArchive>> = {};
      for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
        const tar = join(h.temp("out"), "i.tar");
        const r = buildctl(addr, ["--output", `type=oci,dest=${tar},name=${registry.host}/out/img:1`, ...args]);
        if (r.exitCode !== 0) console.log(who, r.stderr.toString());
        expect(r.exitCode).toBe(0);
        got[who] = readArchive(tar);
      }
      for (const a of Object.values(got)) {
        const subject = (a.statement.subject as Json[])[0]!;
        expect(`sha256:${(subject.digest as Json).sha256}`).toBe(a.image.digest as string);
        expect((a.index.manifests as Json[])[1]!.annotations).toEqual({ "vnd.docker.reference.digest": a.image.digest, "vnd.docker.reference.type": "attestation-manifest" });
      }
      expect(comparable(got.serve!)).toEqual(comparable(got.peer!));
      if (mode === "max") {
        const steps = (p: ReturnType<typeof readArchive>) => ((((p.statement.predicate as Json).buildConfig as Json).llbDefinition) as Json[]).length;
        expect(steps(got.serve!)).toBe(steps(got.peer!));
      }
    }, 240_000);
  }

  test("type=local: provenance.json beside the files, subjects the exported files", () => {
    const args = copyProject((n) => h.temp(n), dockerfile().replace(/^FROM .*$/m, "FROM scratch").replace(/^RUN .*$/m, ""), ["--opt", "attest:provenance=mode=min"]);
    const out: Record<string, { files: string[]; statement: Json }> = {};
    for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
      const dest = h.temp("local");
      const r = buildctl(addr, ["--output", `type=local,dest=${dest}`, ...args]);
      if (r.exitCode !== 0) console.log(who, r.stderr.toString());
      expect(r.exitCode).toBe(0);
      out[who] = { files: readdirSync(dest).sort(), statement: JSON.parse(readFileSync(join(dest, "provenance.json"), "utf8")) as Json };
    }
    expect(out.serve!.files).toEqual(out.peer!.files);
    expect(out.serve!.statement.subject).toEqual(out.peer!.statement.subject);
    const pred = (s: Json) => {
      const p = s.predicate as Json;
      return { invocation: p.invocation, materials: p.materials, completeness: (p.metadata as Json).completeness };
    };
    expect(pred(out.serve!.statement)).toEqual(pred(out.peer!.statement));
  }, 240_000);

  test("type=tar, one platform and two: the statement file among the files, as BuildKit's tar holds it", () => {
    const args = copyProject((n) => h.temp(n), dockerfile().replace(/^FROM .*$/m, "FROM scratch").replace(/^RUN .*$/m, ""), ["--opt", "attest:provenance=mode=min"]);
    for (const platforms of [[], ["--opt", "platform=linux/amd64,linux/arm64"]]) {
      const listed: Record<string, string[]> = {};
      for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
        const tar = join(h.temp("tar"), "out.tar");
        const r = buildctl(addr, ["--output", `type=tar,dest=${tar}`, ...platforms, ...args]);
        if (r.exitCode !== 0) console.log(who, r.stderr.toString());
        expect(r.exitCode).toBe(0);
        // name and mode of each entry, in the tar's order
        listed[who] = Bun.spawnSync(["tar", "-tvf", tar]).stdout.toString().trim().split("\n").map((l) => { const f = l.split(/\s+/); return `${f[0]} ${f.at(-1)}`; });
      }
      expect(listed.serve).toEqual(listed.peer!);
      expect(listed.serve!.some((l) => /^-rw------- (linux_amd64\/)?provenance\.json$/.test(l))).toBe(true);
    }
  }, 240_000);

  test("our client asks for it as buildctl does, with a frontend or a plain definition, of either daemon", async () => {
    const def = scratch().file(mkfile("/hello", 0o644, "hi\n")).marshal({ platform: LINUX_AMD64 });
    const project = copyProject((n) => h.temp(n), dockerfile(), []);
    for (const addr of [daemons.peer.addr, daemons.serve.addr]) {
      for (const [args, stdin] of [[project, undefined], [[], def]] as const) {
        const tar = join(h.temp("client"), "i.tar");
        const r = await runClient(["build", "--addr", addr, "--progress", "plain", "--opt", "attest:provenance=mode=min", "--output", `type=oci,dest=${tar},name=x/y:z`, ...args], stdin ? { stdin } : {});
        if (r.code !== 0) console.log(addr, r.stderr);
        expect(r.code).toBe(0);
        const a = readArchive(tar);
        expect((a.index.manifests as Json[])[1]!.annotations).toEqual({ "vnd.docker.reference.digest": a.image.digest, "vnd.docker.reference.type": "attestation-manifest" });
        expect(a.statement.predicateType).toBe("https://slsa.dev/provenance/v0.2");
      }
    }
  }, 240_000);

  test("daemonless: --opt attest:provenance=mode=max makes the index and attestation; an empty attest:sbom generator fails with one clear line", async () => {
    const args = copyProject((n) => h.temp(n), dockerfile(), ["--opt", "attest:provenance=mode=max"]);
    const dir = h.temp("out");
    mkdirSync(dir, { recursive: true });
    const r = await h.build(new Uint8Array(), ["--output", `type=oci,dest=${join(dir, "i.tar")},name=${registry.host}/out/img:1`, ...args]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    const a = readArchive(join(dir, "i.tar"));
    expect(a.statement.predicateType).toBe("https://slsa.dev/provenance/v0.2");
    expect(Object.keys((a.statement.predicate as Json).buildConfig as Json)).toEqual(["llbDefinition", "digestMapping"]);
    const sbom = await h.build(new Uint8Array(), ["--output", `type=oci,dest=${join(dir, "j.tar")}`, ...copyProject((n) => h.temp(n), dockerfile(), ["--opt", "attest:sbom=generator="])]);
    expect(sbom.code).not.toBe(0);
    expect(sbom.stderr).toContain("sbom generator cannot be empty");
    const remote = buildctl(daemons.serve.addr, ["--output", `type=oci,dest=${join(dir, "k.tar")}`, ...copyProject((n) => h.temp(n), dockerfile(), ["--opt", "attest:sbom=generator="])]);
    expect(remote.exitCode).not.toBe(0);
    expect(remote.stderr.toString()).toContain("sbom generator cannot be empty");
  }, 240_000);
});
