// SLSA provenance as BuildKit v0.11 makes it: purls (util/purl's test cases), attest:* parsing
// (frontend/attestations Parse), the predicate (NewPredicate + NewProvenanceCreator: modes,
// argument filtering, materials, completeness, hermetic, buildConfig) and in-toto statements.
import { describe, expect, test } from "bun:test";
import { parseAttestations } from "../../../src/core/provenance/attestations.ts";
import { SourceCapture } from "../../../src/core/provenance/capture.ts";
import { captureGraph, emptyGraphCapture } from "../../../src/core/provenance/graph-capture.ts";
import { predicateJSON, provenanceOptions, provenancePredicate, type PredicateInputs } from "../../../src/core/provenance/predicate.ts";
import { refToPurl } from "../../../src/core/provenance/purl.ts";
import { inTotoStatement, statementJSON } from "../../../src/core/provenance/statement.ts";
import { loadDefinition } from "../../../src/core/llb/definition.ts";
import { image, marshalDefinition } from "../../../src/core/llb/index.ts";

const DGST = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"; // sha256("test")
const AMD64 = { os: "linux", architecture: "amd64" };

describe("refToPurl (util/purl RefToPURL)", () => {
  const cases: [string, string, typeof AMD64 | undefined][] = [
    ["alpine", "pkg:docker/alpine@latest", undefined],
    ["library/alpine:3.15", "pkg:docker/alpine@3.15", undefined],
    ["docker.io/library/alpine:latest", "pkg:docker/alpine@latest", undefined],
    [`docker.io/library/alpine:latest@${DGST}`, `pkg:docker/alpine@latest?digest=${DGST}`, undefined],
    [`docker.io/library/alpine@${DGST}`, `pkg:docker/alpine?digest=${DGST}`, undefined],
    ["user/test:v2", "pkg:docker/user/test@v2", undefined],
    ["ghcr.io/foo/bar:v2", "pkg:docker/ghcr.io/foo/bar@v2", undefined],
    ["ghcr.io/foo/bar", "pkg:docker/ghcr.io/foo/bar@latest", undefined],
    ["busybox", "pkg:docker/busybox@latest?platform=linux%2Famd64", AMD64],
    [`busybox@${DGST}`, `pkg:docker/busybox?digest=${DGST}&platform=linux%2Famd64`, AMD64],
    // A registry's port: the namespace is query-escaped (":" → %3A).
    ["localhost:5000/a/b:1", "pkg:docker/localhost%3A5000/a/b@1?platform=linux%2Farm%2Fv7", { os: "linux", architecture: "arm" }],
  ];
  for (const [ref, want, platform] of cases) test(ref, () => expect(refToPurl(ref, platform)).toBe(want));
  test("a bad reference fails", () => expect(() => refToPurl("inv:al:id")).toThrow("failed to parse ref"));
});

describe("parseAttestations", () => {
  test("attest:provenance's CSV attributes; BUILDKIT_ATTEST_ build args too; the type is lower-cased", () => {
    expect(parseAttestations({ "attest:provenance": "mode=min,builder-id=x,flag" }).provenance?.attrs).toEqual({ mode: "min", "builder-id": "x", flag: "" });
    expect(parseAttestations({ "build-arg:BUILDKIT_ATTEST_PROVENANCE": "mode=max" }).provenance?.options.mode).toBe("max");
    expect(parseAttestations({ "attest:Provenance": "" }).provenance?.options).toEqual({ mode: "max", builderID: "", reproducible: false });
    expect(parseAttestations({ target: "x" })).toEqual({});
  });
  test("an unknown type, an empty SBOM generator and a bad mode fail with one clear line", () => {
    expect(() => parseAttestations({ "attest:foo": "" })).toThrow('unknown attestation type "foo"');
    expect(() => parseAttestations({ "attest:sbom": "generator=" })).toThrow("sbom generator cannot be empty");
    expect(() => parseAttestations({ "attest:sbom": "generator=Bad/Name" })).toThrow("failed to parse sbom generator Bad/Name");
    expect(() => parseAttestations({ "attest:provenance": "mode=mid" })).toThrow('invalid mode "mid"');
    expect(() => provenanceOptions({ reproducible: "" })).toThrow("failed to parse reproducible flag");
  });
  test("invocation IDs are 25 base-36 digits", () => {
    expect(parseAttestations({ "attest:provenance": "" }).provenance?.invocationID).toMatch(/^[0-9a-z]{25}$/);
  });
});

function inputs(over: Partial<PredicateInputs>): PredicateInputs {
  return {
    sources: new SourceCapture().finish(),
    graph: emptyGraphCapture(),
    origin: undefined,
    options: provenanceOptions({ mode: "min" }),
    startedOn: Date.UTC(2023, 0, 2, 3, 4, 5, 600),
    finishedOn: Date.UTC(2023, 0, 2, 3, 4, 6),
    invocationID: "abc",
    hostPlatform: AMD64,
    ...over,
  };
}

describe("provenancePredicate", () => {
  const origin = { frontend: "dockerfile.v0", args: { "build-arg:A": "1", "label:l": "v", target: "t", filename: "Dockerfile.x", context: "https://example.com/r.git#main", "vcs:source": "https://u:p@h/r", "vcs:revision": "" } };
  const sources = new SourceCapture()
    .addAll([
      { type: "docker-image", ref: "docker.io/library/busybox:latest", platform: AMD64, digest: DGST },
      { type: "git", url: "https://example.com/r.git#main", commit: "0123456789012345678901234567890123456789" },
      { type: "http", url: "https://example.com/f", digest: DGST },
    ])
    .finish();

  test("mode=min: build args and labels dropped (parameters incomplete), configSource from the context's material, vcs in metadata; Go's field order", () => {
    const p = provenancePredicate(inputs({ origin, sources }));
    expect(Object.keys(p)).toEqual(["builder", "buildType", "materials", "invocation", "metadata"]);
    expect(p.materials).toEqual([
      { uri: "pkg:docker/busybox@latest?platform=linux%2Famd64", digest: { sha256: DGST.slice(7) } },
      { uri: "https://example.com/r.git#main", digest: { sha1: "0123456789012345678901234567890123456789" } },
      { uri: "https://example.com/f", digest: { sha256: DGST.slice(7) } },
    ]);
    expect(p.invocation).toEqual({
      configSource: { uri: "https://example.com/r.git#main", digest: { sha1: "0123456789012345678901234567890123456789" }, entryPoint: "Dockerfile.x" },
      parameters: { frontend: "dockerfile.v0", args: { target: "t" } },
      environment: { platform: "linux/amd64" },
    });
    // A context that is no material: its URL, credentials redacted.
    const other = provenancePredicate(inputs({ origin: { frontend: "f", args: { context: "https://u:pw@h/x.tar" } } }));
    expect((other.invocation as { configSource: unknown }).configSource).toEqual({ uri: "https://u:xxxxx@h/x.tar" });
    const meta = p.metadata as Record<string, unknown>;
    expect(meta).toEqual({
      buildInvocationID: "abc",
      buildStartedOn: "2023-01-02T03:04:05.6Z",
      buildFinishedOn: "2023-01-02T03:04:06Z",
      completeness: { parameters: false, environment: true, materials: true },
      reproducible: false,
      "https://mobyproject.org/buildkit@v1#metadata": { vcs: { source: "https://u:xxxxx@h/r" } },
      "https://mobyproject.org/buildkit@v1#hermetic": true,
    });
  });

  test("mode=max keeps args, secrets and ssh; locals make materials incomplete and the build not hermetic; no frontend: parameters incomplete", () => {
    const graph = { ...emptyGraphCapture(), locals: ["context"], secrets: [{ id: "s", optional: true }], ssh: [{ id: "default", optional: false }] };
    const p = provenancePredicate(inputs({ origin, graph, options: provenanceOptions({ mode: "max", "builder-id": "me", reproducible: "true" }) }));
    const inv = p.invocation as { parameters: Record<string, unknown> };
    expect(inv.parameters).toEqual({ frontend: "dockerfile.v0", args: { "build-arg:A": "1", "label:l": "v", target: "t" }, secrets: [{ id: "s", optional: true }], ssh: [{ id: "default" }], locals: [{ name: "context" }] });
    expect(p.builder).toEqual({ id: "me" });
    expect(p.buildConfig).toEqual({});
    const meta = p.metadata as Record<string, unknown>;
    expect(meta.completeness).toEqual({ parameters: true, environment: true, materials: false });
    expect(meta.reproducible).toBe(true);
    expect("https://mobyproject.org/buildkit@v1#hermetic" in meta).toBe(false);
    const bare = provenancePredicate(inputs({}));
    expect((bare.metadata as { completeness: unknown }).completeness).toEqual({ parameters: false, environment: true, materials: true });
    expect((bare.invocation as { parameters: unknown }).parameters).toEqual({});
  });

  test("mode=max buildConfig: steps depth first from the terminal op, inputs as stepN:INDEX, digests mapped; network access is not hermetic", () => {
    const def = marshalDefinition(image("busybox").run({ args: ["true"] }).root().output()).bytes;
    const loaded = loadDefinition(def);
    const graph = captureGraph(loaded);
    expect(graph.networkAccess).toBe(true);
    const p = provenancePredicate(inputs({ graph, definition: def, options: provenanceOptions({}) }));
    const bc = p.buildConfig as { llbDefinition: { id: string; op: { Op: unknown }; inputs?: string[] }[]; digestMapping: Record<string, string> };
    expect(bc.llbDefinition.map((s) => s.id)).toEqual(["step0", "step1", "step2"]);
    expect(bc.llbDefinition[1]!.inputs).toEqual(["step0:0"]);
    expect(bc.llbDefinition[2]!.op).toEqual({ Op: null });
    expect(Object.values(bc.digestMapping).sort()).toEqual(["step0", "step1", "step2"]);
    expect((bc.llbDefinition[0]!.op.Op as { source: { identifier: string } }).source.identifier).toBe("docker-image://docker.io/library/busybox:latest");
    expect("https://mobyproject.org/buildkit@v1#hermetic" in (p.metadata as object)).toBe(false);
  });

  test("the content is MarshalIndent'ed; a statement is compact, predicate included, HTML characters escaped as Go does", () => {
    const p = provenancePredicate(inputs({ origin: { frontend: "x", args: { "label:a": "<&>" } }, options: provenanceOptions({ mode: "max" }) }));
    const text = new TextDecoder().decode(predicateJSON(p));
    expect(text.startsWith('{\n  "builder": {\n    "id": ""\n  },\n  "buildType"')).toBe(true);
    expect(text).toContain("\\u003c\\u0026\\u003e");
    const s = statementJSON(inTotoStatement("https://slsa.dev/provenance/v0.2", p, [{ name: "pkg:docker/x@1", digest: { sha256: "ab" } }]));
    expect(s.startsWith('{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[{"name":"pkg:docker/x@1","digest":{"sha256":"ab"}}],"predicate":{"builder":{"id":""},')).toBe(true);
    expect(s).not.toContain("\n");
  });
});
