// The solver's failure gets the failing vertex's places in the build's files from the
// definition's source map, one SourcedError per location, as BuildKit's bridge adds them.
import { expect, test } from "bun:test";
import { errorSources, SourcedError } from "../../../src/core/error-sources.ts";
import { BuildkitError } from "../../../src/core/errors.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { VertexError } from "../../../src/core/solver/job.ts";
import { withDefinitionSources } from "../../../src/core/solver/source-locations.ts";
import type { Digest } from "../../../src/core/digest.ts";

const enc = new TextEncoder();
const FAILING = "sha256:1111111111111111111111111111111111111111111111111111111111111111" as Digest;
const infoDefinition = pb.Definition.encode({ def: [enc.encode("local")] }).finish();

function definition(source?: pb.ISource): Uint8Array {
  return pb.Definition.encode({ def: [enc.encode("op")], ...(source ? { Source: source } : {}) }).finish();
}

const SOURCE: pb.ISource = {
  locations: {
    [FAILING]: { locations: [{ sourceIndex: 1, ranges: [{ start: { line: 3 }, end: { line: 3 } }] }, { sourceIndex: 0, ranges: [{ start: { line: 1, character: 2 }, end: { line: 2 } }] }, { sourceIndex: 7 }] },
  },
  infos: [
    { filename: "a.txt", data: enc.encode("a\nb\n") },
    { filename: "Dockerfile", data: enc.encode("FROM x\nRUN a\nRUN false\n"), definition: pb.Definition.decode(infoDefinition) },
  ],
};

const failure = () => new VertexError({ digest: FAILING, name: "[2/2] RUN false" }, new BuildkitError("Internal", "exit code: 1"));

test("each location of the failing vertex wraps the error, the first innermost", () => {
  const err = withDefinitionSources(failure(), definition(SOURCE));
  expect(err).toBeInstanceOf(SourcedError);
  expect((err as Error).message).toBe("[2/2] RUN false: exit code: 1");
  const sources = errorSources(err);
  expect(sources.map((s) => s.info.filename)).toEqual(["Dockerfile", "a.txt"]); // index 7: no such info, left out
  expect(sources[0]?.ranges).toEqual([{ start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }]);
  expect(sources[1]?.ranges).toEqual([{ start: { line: 1, character: 2 }, end: { line: 2, character: 0 } }]);
  expect(sources[0]?.info.definition).toEqual(infoDefinition);
  expect(sources[1]?.info.definition).toBeUndefined();
});

test("no source map, another vertex, or no vertex: the error as it was", () => {
  const e = failure();
  expect(withDefinitionSources(e, definition())).toBe(e);
  const other = new VertexError({ digest: "sha256:22" as Digest, name: "x" }, new Error("y"));
  expect(withDefinitionSources(other, definition(SOURCE))).toBe(other);
  const plain = new Error("plain");
  expect(withDefinitionSources(plain, definition(SOURCE))).toBe(plain);
  expect(withDefinitionSources(e, new Uint8Array([0x1a, 0x05, 0xff]))).toBe(e); // unreadable source map
});
