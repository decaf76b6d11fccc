// Our Dockerfile conversion against BuildKit v0.11.6's own dockerfile2llb: for each Dockerfile in
// dockerfiles/ (FROM images on a test registry on 127.0.0.1), the same op digests (local.unique,
// random in Go, set aside) and the same vertex names. A mismatch prints both sides' ops.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { convertDockerfile } from "../../../src/core/frontends/dockerfile/convert.ts";
import { imageJson } from "../../../src/core/frontends/dockerfile/image-json.ts";
import { createRegistryClient } from "../../../src/core/registry/index.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { sha256 } from "../../../src/core/digest.ts";
import { REGISTRY_BIN, startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { makeBusyboxImage, pushImage } from "../../fixtures/images.ts";
import { DOCKERFILE2LLB } from "../../fixtures/peers.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

const PEER = DOCKERFILE2LLB;
const DIR = join(import.meta.dir, "dockerfiles");
/** Dockerfiles built for a --target (the file name says which). */
const TARGETS: Record<string, string> = { "25-target": "b" };

function skipReason(): string | undefined {
  if (!existsSync(PEER)) return "the peer dockerfile2llb is absent (../shared/peers)";
  if (!existsSync(REGISTRY_BIN)) return "docker-registry is not installed";
  if (!Bun.which("skopeo")) return "skopeo is not installed";
  if (!existsSync("/bin/busybox")) return "busybox-static is not installed";
  return undefined;
}
const reason = skipReason();
if (reason && process.env.CI === "true") throw new Error(`peer comparison cannot run under CI=true: ${reason}`);
if (reason) console.log(`skipping dockerfile2llb comparison: ${reason}`);

interface Op {
  digest: string;
  name?: string;
  json: unknown;
}

/** Ops with local.unique fixed and digests recomputed through the graph; names from metadata. */
function normalized(bytes: Uint8Array): Op[] {
  const def = pb.Definition.decode(bytes);
  const renamed = new Map<string, string>();
  return def.def.slice(0, -1).map((raw) => {
    const op = pb.Op.decode(raw);
    const old = sha256(raw);
    for (const i of op.inputs) i.digest = renamed.get(i.digest ?? "") ?? i.digest;
    if (op.source?.attrs?.["local.unique"]) op.source.attrs["local.unique"] = "-";
    const digest = sha256(pb.Op.encode(op).finish());
    renamed.set(old, digest);
    return { digest, name: def.metadata[old]?.description?.["llb.customname"], json: pb.Op.toObject(op, { longs: String }) };
  });
}

describe.skipIf(reason !== undefined)("dockerfile2llb comparison", () => {
  let registry: TestRegistry;
  let work: string;
  beforeAll(async () => {
    registry = await startRegistry();
    work = mkdtempSync(join(tmpdir(), "bk-df-"));
    const plain = await makeBusyboxImage({ dir: join(work, "busybox"), config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] } });
    await pushImage(plain.layoutDir, `${registry.host}/test/busybox:latest`);
    const configured = await makeBusyboxImage({ dir: join(work, "configured"), config: { Env: ["PATH=/bin", "FOO=bar"], WorkingDir: "/work", User: "nobody" } });
    await pushImage(configured.layoutDir, `${registry.host}/test/configured:latest`);
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith(".Dockerfile")).sort() : [];
  test("the corpus covers at least 40 Dockerfiles", () => expect(files.length).toBeGreaterThanOrEqual(40));

  for (const file of files) {
    const name = file.replace(/\.Dockerfile$/, "");
    test(name, async () => {
      const text = readFileSync(join(DIR, file), "utf8").replaceAll("{{REGISTRY}}", registry.host);
      const target = TARGETS[name];
      const configFile = join(work, `${name}.config.json`);
      const peer = Bun.spawnSync([PEER, "--partial-image-config-file", configFile, ...(target ? ["--target", target] : [])], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
      if (peer.exitCode !== 0) throw new Error(`peer dockerfile2llb failed: ${peer.stderr.toString()}`);
      const reg = createRegistryClient();
      const ours = await convertDockerfile(text, {
        async resolveImageConfig(ref, platform) {
          const r = await reg.resolve(ref, platform, new AbortController().signal);
          return { digest: r.indexDigest ?? r.digest, config: r.configBytes };
        },
      }, { target });
      const a = normalized(ours.state.marshal(ours.marshalOptions));
      const b = normalized(new Uint8Array(peer.stdout));
      const show = (ops: Op[]) => ops.map((o) => `${o.digest.slice(7, 19)} ${o.name ?? ""}\n    ${JSON.stringify(o.json)}`).join("\n");
      const sameDigests = JSON.stringify(a.map((o) => o.digest).sort()) === JSON.stringify(b.map((o) => o.digest).sort());
      if (!sameDigests) console.log(`--- ours\n${show(a)}\n--- dockerfile2llb\n${show(b)}`);
      expect(sameDigests).toBe(true);
      // One op reached from two stages (the same FROM twice) keeps the name of the stage Go's
      // client visits first, and Go walks a file op's inputs in map order: the peer's own
      // choice varies between runs. Accept any name the peer gives in a few runs.
      const peerNames = new Map<string, Set<string | undefined>>();
      const record = (ops: Op[]) => ops.forEach((o) => peerNames.set(o.digest, (peerNames.get(o.digest) ?? new Set()).add(o.name)));
      record(b);
      for (let i = 0; i < 4 && a.some((o) => !peerNames.get(o.digest)?.has(o.name)); i++) {
        const again = Bun.spawnSync([PEER, ...(target ? ["--target", target] : [])], { stdin: new TextEncoder().encode(text), stdout: "pipe" });
        record(normalized(new Uint8Array(again.stdout)));
      }
      for (const o of a) expect(`${o.digest} ${o.name}`).toBe(`${o.digest} ${peerNames.get(o.digest)?.has(o.name) ? o.name : [...(peerNames.get(o.digest) ?? [])].join(" | ")}`);
      // The image config (the frontend's containerimage.config), byte for byte.
      expect(imageJson(ours.image)).toBe(readFileSync(configFile, "utf8"));
    }, 60_000);
  }
});
