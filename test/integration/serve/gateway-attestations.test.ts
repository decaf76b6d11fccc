// Attestations a gateway client returns with its result (LLBBridge Return's Result.attestations),
// as BuildKit v0.11 exports them: a client drives a build through the gateway by hand (our gRPC
// client: Control.Solve with no definition, then LLBBridge Solve and Return naming the build),
// returns an in-toto attestation whose predicate is a file of a result it solved, and asks for
// the image pushed to a registry; buildkitd v0.11.6 and buildkit serve get the same requests.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LINUX_AMD64, mkfile, scratch } from "../../../src/core/llb/index.ts";
import { connect } from "../../../src/api/grpc/client.ts";
import { ControlService, LLBBridgeService } from "../../../src/api/grpc/services.ts";
import { BUILD_ID_HEADER } from "../../../src/api/gateway/bridge.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { DaemonDir } from "../../fixtures/daemon-dir.ts";
import { buildkitdAvailable, startPeerAndServe, type PeerAndServe, type TestDaemon } from "../client/daemons.ts";

const SUITE = "attestations returned by a gateway client";
const run = requireIntegration(SUITE, { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) && buildkitdAvailable(SUITE);
let work: DaemonDir;
let registry: TestRegistry;
let daemons: PeerAndServe;

beforeAll(async () => {
  if (!run) return;
  work = new DaemonDir("bk-gw-att-");
  registry = await startRegistry();
  daemons = await startPeerAndServe(work.dir, registry.host);
}, 60_000);
afterAll(async () => {
  await daemons?.stop();
  await registry?.stop();
  work?.removeAll();
});

const PREDICATE_TYPE = "https://example.com/test-predicate/v1";
const PLATFORM = "linux/amd64";

/** One gateway build on daemon: a file and a predicate solved, the file returned with the predicate as its attestation, pushed as image. */
async function gatewayBuild(daemon: TestDaemon, image: string): Promise<void> {
  const channel = connect(daemon.addr);
  const ref = crypto.randomUUID().replaceAll("-", "").slice(0, 25);
  try {
    const solving = channel.unary(ControlService.methods.Solve, {
      Ref: ref,
      Exporter: "image",
      ExporterAttrs: { name: image, push: "true", "registry.insecure": "true" },
      FrontendAttrs: {},
    });
    solving.catch(() => undefined);
    const metadata = { [BUILD_ID_HEADER]: ref };
    const solve = async (def: Uint8Array) => {
      const res = await channel.unary(LLBBridgeService.methods.Solve, { Definition: def, allowResultReturn: true, allowResultArrayRef: true }, { metadata });
      return res.result?.ref?.id ?? res.ref ?? "";
    };
    const content = await solve(scratch().file(mkfile("/hello", 0o644, "hello\n")).marshal({ platform: LINUX_AMD64 }));
    const predicate = await solve(scratch().file(mkfile("/predicate.json", 0o644, '{"b":1,"a":{"z":true,"y":[1,2]}}')).marshal({ platform: LINUX_AMD64 }));
    await channel.unary(LLBBridgeService.methods.Return, {
      result: {
        ref: { id: content },
        metadata: { "refs.platforms": new TextEncoder().encode(JSON.stringify({ Platforms: [{ ID: PLATFORM, Platform: { architecture: "amd64", os: "linux" } }] })) },
        attestations: {
          [PLATFORM]: {
            attestation: [
              { kind: 0, ref: { id: predicate }, path: "/predicate.json", inTotoPredicateType: PREDICATE_TYPE },
              { kind: 0, ref: { id: predicate }, path: "/predicate.json", inTotoPredicateType: `${PREDICATE_TYPE}#raw`, inTotoSubjects: [{ kind: 1, name: "thing", digest: [`sha256:${"a".repeat(64)}`] }] },
            ],
          },
        },
      },
    }, { metadata });
    await solving;
  } finally {
    await channel.close();
  }
}

interface Json {
  [k: string]: unknown;
}

/** The pushed index (or lone manifest), and the statements of its attestation manifest, read with skopeo. */
function pushed(image: string): { index: Json; statements: Json[] } {
  const repo = image.slice(0, image.lastIndexOf(":"));
  const raw = (ref: string) => JSON.parse(Bun.spawnSync(["skopeo", "inspect", "--raw", "--tls-verify=false", `docker://${ref}`]).stdout.toString()) as Json;
  const index = raw(image);
  const att = ((index.manifests as Json[] | undefined) ?? []).find((m) => (m.annotations as Json | undefined)?.["vnd.docker.reference.type"] === "attestation-manifest");
  if (!att) return { index, statements: [] };
  const dir = work.temp("blobs");
  const copied = Bun.spawnSync(["skopeo", "copy", "--quiet", "--src-tls-verify=false", `docker://${repo}@${att.digest as string}`, `dir:${dir}`]);
  expect(copied.exitCode).toBe(0);
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Json;
  const statements = (manifest.layers as Json[]).map((l) => JSON.parse(readFileSync(join(dir, (l.digest as string).slice(7)), "utf8")) as Json);
  return { index, statements };
}

describe.skipIf(!run)(SUITE, () => {
  test("an in-toto attestation read from a returned result's file, self or raw subjects: the same statements on buildkitd and buildkit serve", async () => {
    const got: Record<string, { index: Json; statements: Json[] }> = {};
    for (const daemon of [daemons.peer, daemons.serve]) {
      const image = `${registry.host}/gw-att/${daemon.kind}:1`;
      await gatewayBuild(daemon, image);
      got[daemon.kind] = pushed(image);
    }
    const shape = (g: { index: Json; statements: Json[] }) => ({
      manifests: ((g.index.manifests as Json[] | undefined) ?? []).map((m) => ({ mediaType: m.mediaType, platform: m.platform })),
      // (Each daemon pushed under its own name.)
      statements: g.statements.map((s) => ({ predicateType: s.predicateType, subjects: (s.subject as Json[]).map((x) => String(x.name).replace(/buildkitd|serve/, "DAEMON")), digests: (s.subject as Json[]).map((x) => Object.keys(x.digest as Json)), predicate: s.predicate })),
    });
    expect(got.buildkitd!.statements.length).toBe(2);
    expect(shape(got.serve!)).toEqual(shape(got.buildkitd!));
  }, 120_000);
});
