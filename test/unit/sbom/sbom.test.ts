import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertDockerfile } from "../../../src/core/frontends/dockerfile/convert.ts";
import { loadDefinition } from "../../../src/core/llb/definition.ts";
import { definitionState } from "../../../src/core/llb/definition-state.ts";
import { image } from "../../../src/core/llb/index.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { DEFAULT_SBOM_GENERATOR, parseAttestations } from "../../../src/core/provenance/attestations.ts";
import { scanState } from "../../../src/core/sbom/scanner.ts";
import { SPDX_PREDICATE_TYPE, unbundleSBOM } from "../../../src/core/sbom/unbundle.ts";

describe("attest:sbom parsing (control.go)", () => {
  test("the default generator, normalised with its tag; the cache used unless no-cache is empty", () => {
    expect(DEFAULT_SBOM_GENERATOR).toBe("docker/buildkit-syft-scanner:stable-1");
    expect(parseAttestations({ "attest:sbom": "" }).sbom).toEqual({ generator: "docker.io/docker/buildkit-syft-scanner:stable-1", useCache: true });
    expect(parseAttestations({ "attest:sbom": "generator=127.0.0.1:5000/test/scanner" }).sbom?.generator).toBe("127.0.0.1:5000/test/scanner:latest");
    expect(parseAttestations({ "build-arg:BUILDKIT_ATTEST_SBOM": "generator=alpine:3" }).sbom?.generator).toBe("docker.io/library/alpine:3");
    expect(parseAttestations({ "attest:sbom": "", "no-cache": "" }).sbom?.useCache).toBe(false);
    expect(parseAttestations({ "attest:sbom": "", "no-cache": "stage1" }).sbom?.useCache).toBe(true);
    const both = parseAttestations({ "attest:sbom": "", "attest:provenance": "mode=min" });
    expect(both.sbom).toBeDefined();
    expect(both.provenance?.options.mode).toBe("min");
  });
  test("an empty or unparsable generator fails", () => {
    expect(() => parseAttestations({ "attest:sbom": "generator=" })).toThrow("sbom generator cannot be empty");
    expect(() => parseAttestations({ "attest:sbom": "generator=a b" })).toThrow("failed to parse sbom generator a b");
  });
});

describe("the scan (CreateSBOMScanner)", () => {
  test("an exec of the scanner's entrypoint + cmd over the result, keeping the result's op digests", () => {
    const core = image("busybox").run({ args: ["touch", "/x"] }).root();
    const coreDef = loadDefinition(core.marshal());
    const out = scanState(
      { ref: "127.0.0.1:5000/test/scanner:latest", config: { Entrypoint: ["/bin/sh"], Cmd: ["/scan.sh"], Env: ["PATH=/bin", "A=b"], WorkingDir: "/w" } },
      { name: "linux/amd64", core: definitionState(coreDef), ignoreCache: true },
    );
    const def = loadDefinition(out.marshal());
    for (const d of coreDef.order) if (coreDef.ops.get(d)!.kind !== undefined) expect(def.ops.has(d)).toBe(true);
    const execs = [...def.ops.values()].filter((o) => o.kind === "exec");
    const scan = execs.find((o) => o.op.exec!.meta!.args![0] === "/bin/sh")!;
    const meta = scan.op.exec!.meta!;
    expect(meta.args).toEqual(["/bin/sh", "/scan.sh"]);
    expect(meta.env).toEqual(["PATH=/bin", "A=b", "BUILDKIT_SCAN_DESTINATION=/run/out/", "BUILDKIT_SCAN_SOURCE=/run/src/core/sbom"]);
    expect(meta.cwd).toBe("/w");
    const mounts = scan.op.exec!.mounts!;
    // Mounts sorted by destination, as Go's exec marshal orders them.
    expect(mounts.map((m) => m.dest)).toEqual(["/", "/run/out/", "/run/src/core/sbom", "/tmp"]);
    expect(mounts[3]!.mountType).toBe(pb.MountType.TMPFS);
    expect(mounts[2]!.readonly).toBe(true);
    expect(scan.ignoreCache).toBe(true);
    expect(scan.metadata?.description?.["llb.customname"]).toBe("[linux/amd64] generating sbom using 127.0.0.1:5000/test/scanner:latest");
  });
  test("an image without a command cannot scan", () => {
    expect(() => scanState({ ref: "x:1", config: {} }, { name: "linux/amd64", core: image("busybox") })).toThrow("scanner x:1 does not have cmd");
  });
});

describe("unbundling (exporter/attestation Unbundle)", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, v: unknown) => writeFileSync(join(dir, name), typeof v === "string" ? v : JSON.stringify(v));

  test("each file a statement: core SBOM first, subjects kept (raw) or left to the exporter, predicate keys sorted", () => {
    dir = mkdtempSync(join(tmpdir(), "unbundle-"));
    write("a.spdx.json", { _type: "https://in-toto.io/Statement/v0.1", predicateType: SPDX_PREDICATE_TYPE, subject: [{ name: "", digest: { sha512: "b", sha256: "a" } }], predicate: { z: 1, a: { y: [{ d: 1, c: 2 }] } } });
    write("sbom.spdx.json", { predicateType: SPDX_PREDICATE_TYPE, predicate: { spdxVersion: "SPDX-2.3" } });
    const atts = unbundleSBOM(dir);
    expect(atts.map((a) => a.path)).toEqual(["sbom.spdx.json", "a.spdx.json"]);
    expect(atts[0]!.subjects).toEqual([]);
    expect(atts[1]!.subjects).toEqual([{ name: "_", digest: { sha256: "a", sha512: "b" } }]);
    expect(JSON.stringify(atts[1]!.predicate())).toBe('{"a":{"y":[{"c":2,"d":1}]},"z":1}');
    expect(atts.every((a) => a.predicateType === SPDX_PREDICATE_TYPE && !a.inlineOnly)).toBe(true);
  });
  test("another predicate type, or a file that is no statement, fails naming it", () => {
    dir = mkdtempSync(join(tmpdir(), "unbundle-"));
    write("x.json", { predicateType: "https://slsa.dev/provenance/v0.2", predicate: {} });
    expect(() => unbundleSBOM(dir)).toThrow("bundle entry https://slsa.dev/provenance/v0.2 does not match required predicate type https://spdx.dev/Document");
    rmSync(join(dir, "x.json"));
    write("y.json", "not json");
    expect(() => unbundleSBOM(dir)).toThrow("cannot decode in-toto statement y.json");
    rmSync(join(dir, "y.json"));
    mkdirSync(join(dir, "sub"));
    expect(() => unbundleSBOM(dir)).toThrow("cannot decode in-toto statement sub");
  });
});

describe("Dockerfile SBOM extras (dockerfile2llb SBOMTargets)", () => {
  const extras = async (df: string, buildArgs: Record<string, string> = {}) =>
    [...(await convertDockerfile(df, { resolveImageConfig: () => Promise.reject(new Error("no images here")) }, { buildArgs })).sbomExtras.keys()].sort();
  const df = (head: string, stageArg: string) => `${head}
FROM scratch AS a
${stageArg}
COPY x /x
FROM scratch AS b
COPY --from=a /x /y
FROM b
COPY z /z
`;
  test("context from a declared ARG BUILDKIT_SBOM_SCAN_CONTEXT (global or build arg); reachable stages from their own ARG", async () => {
    expect(await extras(df("", ""))).toEqual([]);
    expect(await extras(df("ARG BUILDKIT_SBOM_SCAN_CONTEXT=true", "ARG BUILDKIT_SBOM_SCAN_STAGE=1"))).toEqual(["a", "context"]);
    // A build arg counts only for an ARG the Dockerfile declares.
    expect(await extras(df("", ""), { BUILDKIT_SBOM_SCAN_CONTEXT: "true" })).toEqual([]);
    expect(await extras(df("ARG BUILDKIT_SBOM_SCAN_CONTEXT", ""), { BUILDKIT_SBOM_SCAN_CONTEXT: "true" })).toEqual(["context"]);
    // A global ARG applies to every stage; a list names stages (the target is never an extra).
    expect(await extras(df("ARG BUILDKIT_SBOM_SCAN_STAGE=a,b,stage-2", ""))).toEqual(["a", "b"]);
    expect(await extras(df("ARG BUILDKIT_SBOM_SCAN_STAGE=false", ""))).toEqual([]);
  });
});
