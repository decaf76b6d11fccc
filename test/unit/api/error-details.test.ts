// The errdefs details of a gRPC status, against what BuildKit v0.11.6 writes: each GO_* text is
// Go's encoding/json of the same message (a program run against /work/ref's vendored sources).
import { expect, test } from "bun:test";
import { errorSources, SourcedError, VertexTaggedError, withSource, type ErrorSource } from "../../../src/core/error-sources.ts";
import { BuildkitError } from "../../../src/core/errors.ts";
import type { Digest } from "../../../src/core/digest.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { definitionJson } from "../../../src/api/grpc/definition-json.ts";
import { parseSource, ReceivedVertexError, SOURCE_TYPE_URL, sourceDetail, VERTEX_TYPE_URL, vertexDetail } from "../../../src/api/grpc/error-details.ts";
import { writeGoJson } from "../../../src/api/grpc/go-json.ts";
import { decodeStatusDetails, encodeStatusDetails, fromGrpcStatus, GrpcError, Status, toGrpcError } from "../../../src/api/grpc/status.ts";

const GO_SOURCE = "{\"info\":{\"filename\":\"Dockerfile\",\"data\":\"RlJPTSBidXN5Ym94CkNPUFkgYSAvYQpSVU4gZmFsc2UKUlVOIGVjaG8gPCY+CkVOViBYPTEKV09SS0RJUiAvdwpSVU4gdHJ1ZQo=\",\"definition\":{\"def\":[\"b3Ax\",\"b3Ay\"],\"metadata\":{\"sha256:aa\":{\"ignore_cache\":true,\"export_cache\":{},\"caps\":null,\"progress_group\":{\"id\":\"g\",\"weak\":true}},\"sha256:bb\":{\"description\":{\"llb.customname\":\"[internal] load \\u003cx\\u003e \\u0026 y\"},\"caps\":{\"source.local\":true}}},\"Source\":{\"locations\":{\"sha256:aa\":{\"locations\":[{\"ranges\":[{\"start\":{\"line\":1},\"end\":{\"line\":1}}]}]}},\"infos\":[{\"filename\":\"Dockerfile\",\"data\":\"RlJPTSB4Cg==\"}]}}},\"ranges\":[{\"start\":{\"line\":3},\"end\":{\"line\":3}},{\"start\":{\"line\":4,\"character\":2},\"end\":{}}]}";
const GO_EMPTY_DEFINITION = "{\"metadata\":null}";
const GO_VERTEX = "{\"digest\":\"sha256:abc\"}";
const GO_ESCAPES = "{\"info\":{\"filename\":\"a\\u2028\\u0008\\u000c\\u0001\\\"\\\\b\"}}";

const enc = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const DATA = enc.encode("FROM busybox\nCOPY a /a\nRUN false\nRUN echo <&>\nENV X=1\nWORKDIR /w\nRUN true\n");

function sampleDefinition(): Uint8Array {
  return pb.Definition.encode({
    def: [enc.encode("op1"), enc.encode("op2")],
    metadata: {
      "sha256:aa": { ignore_cache: true, export_cache: { Value: false }, progress_group: { id: "g", weak: true } },
      "sha256:bb": { description: { "llb.customname": "[internal] load <x> & y" }, caps: { "source.local": true } },
    },
    Source: {
      locations: { "sha256:aa": { locations: [{ ranges: [{ start: { line: 1 }, end: { line: 1 } }] }] } },
      infos: [{ filename: "Dockerfile", data: enc.encode("FROM x\n") }],
    },
  }).finish();
}

const SAMPLE: ErrorSource = {
  info: { filename: "Dockerfile", data: DATA, definition: sampleDefinition() },
  ranges: [
    { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } },
    { start: { line: 4, character: 2 }, end: { line: 0, character: 0 } },
  ],
};

test("errdefs.Source+json is Go's JSON of the source, its definition included", () => {
  const d = sourceDetail(SAMPLE);
  expect(d.type_url).toBe("github.com/moby/buildkit/errdefs.Source+json");
  expect(text(d.value)).toBe(GO_SOURCE);
  expect(writeGoJson(definitionJson(new Uint8Array()))).toBe(GO_EMPTY_DEFINITION);
});

test("errdefs.Vertex+json and Go's string escapes", () => {
  expect(vertexDetail("sha256:abc")).toEqual({ type_url: "github.com/moby/buildkit/errdefs.Vertex+json", value: enc.encode(GO_VERTEX) });
  const escaped = sourceDetail({ info: { filename: "a\u2028\b\f\x01\"\\b", data: new Uint8Array() }, ranges: [] });
  expect(text(escaped.value)).toBe(GO_ESCAPES);
});

test("a source read back from Go's JSON is the source sent (its definition stays in the detail)", () => {
  const back = parseSource(enc.encode(GO_SOURCE));
  expect(back?.info.filename).toBe("Dockerfile");
  expect(back?.info.data).toEqual(DATA);
  expect(back?.ranges).toEqual(SAMPLE.ranges);
  // json.Unmarshal matches field names ignoring case
  expect(parseSource(enc.encode('{"Info":{"FileName":"F"},"Ranges":[{"Start":{"Line":2}}]}'))?.ranges[0]?.start.line).toBe(2);
  expect(parseSource(enc.encode("not json"))).toBeUndefined();
});

test("a status round trip keeps the sources, vertex and unknown details, in Go's order", async () => {
  const a = { ...SAMPLE, info: { ...SAMPLE.info, filename: "a" } };
  const b = { ...SAMPLE, info: { ...SAMPLE.info, filename: "b" } };
  const inner = new VertexTaggedError("NotFound", "step failed", "sha256:0123");
  const err = withSource(withSource(inner, a), b);
  const st = toGrpcError(err);
  expect(st.code).toBe(Status.NOT_FOUND);
  expect(st.message).toBe("step failed");
  // ToGRPC: outermost first
  expect(st.details.map((d) => d.type_url)).toEqual([SOURCE_TYPE_URL, SOURCE_TYPE_URL, VERTEX_TYPE_URL]);
  const unknown = { type_url: "example.com/Other", value: enc.encode("x") };
  const wire = encodeStatusDetails(new GrpcError(st.code, st.message, { details: [unknown, ...st.details] }));
  const received = fromGrpcStatus(new GrpcError(st.code, st.message, { details: decodeStatusDetails(wire) }));
  expect(received).toBeInstanceOf(ReceivedVertexError);
  expect((received as BuildkitError).code).toBe("NotFound");
  // FromGRPC wraps in the order received, so the sources come back reversed, as between Go peers
  expect(errorSources(received).map((s) => s.info.filename)).toEqual(["b", "a"]);
  // Sent on: unknown details first, then the known ones as they came
  const again = toGrpcError(received);
  expect(again.code).toBe(Status.NOT_FOUND);
  expect(again.details.map((d) => d.type_url)).toEqual(["example.com/Other", VERTEX_TYPE_URL, SOURCE_TYPE_URL, SOURCE_TYPE_URL]);
  expect(again.details.slice(1).map((d) => text(d.value))).toEqual([...st.details].reverse().map((d) => text(d.value)));
});

test("errors without sources keep their plain status", () => {
  const plain = new BuildkitError("InvalidArgument", "bad");
  expect(toGrpcError(plain).details).toEqual([]);
  const grpc = new GrpcError(Status.CANCELLED, "canceled");
  expect(toGrpcError(grpc)).toBe(grpc);
  // an untyped error under a source is UNKNOWN, as grpc-go's
  expect(toGrpcError(new SourcedError(new Error("x"), SAMPLE)).code).toBe(Status.UNKNOWN);
});

test("a failed step goes as BuildKit's status: UNKNOWN, its message without the step's name", async () => {
  const { VertexError } = await import("../../../src/core/solver/job.ts");
  const exit = new BuildkitError("Unknown", 'process "/bin/sh -c false" did not complete successfully: exit code: 1');
  const failed = new VertexError({ digest: "sha256:0123" as Digest, name: "[2/3] RUN false" }, exit);
  expect(failed.message).toBe('[2/3] RUN false: process "/bin/sh -c false" did not complete successfully: exit code: 1');
  const st = toGrpcError(withSource(failed, SAMPLE));
  expect(st.code).toBe(Status.UNKNOWN);
  expect(st.message).toBe(exit.message);
  // a step failing with a kind of its own keeps it; context added above the step keeps the whole message
  const missing = new VertexError({ digest: "sha256:0123" as Digest, name: "[1/3] FROM x" }, new BuildkitError("NotFound", "x: not found"));
  expect(toGrpcError(missing).code).toBe(Status.NOT_FOUND);
  const wrapped = new BuildkitError("Internal", `solving: ${missing.message}`, { cause: missing });
  expect(toGrpcError(wrapped).message).toBe("solving: [1/3] FROM x: x: not found");
});
