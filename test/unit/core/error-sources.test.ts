// formatSource against BuildKit v0.11.6's errdefs.Source.Print: each `go` text is what Go's Print
// wrote for the same file and ranges (a program run against /work/ref's vendored sources).
import { expect, test } from "bun:test";
import { errorSources, formatSource, SourcedError, withSource, type SourceRange } from "../../../src/core/error-sources.ts";
import { BuildkitError } from "../../../src/core/errors.ts";

const DATA = new TextEncoder().encode("FROM busybox\nCOPY a /a\nRUN false\nRUN echo <&>\nENV X=1\nWORKDIR /w\nRUN true\n");

const CASES: { name: string; ranges: [number, number][]; go: string }[] = [
  { name: "single", ranges: [[3, 3]], go: "Dockerfile:3\n--------------------\n   1 |     FROM busybox\n   2 |     COPY a /a\n   3 | >>> RUN false\n   4 |     RUN echo <&>\n   5 |     ENV X=1\n--------------------\n" },
  { name: "multi", ranges: [[3, 5]], go: "Dockerfile:3\n--------------------\n   2 |     COPY a /a\n   3 | >>> RUN false\n   4 | >>> RUN echo <&>\n   5 | >>> ENV X=1\n   6 |     WORKDIR /w\n--------------------\n" },
  { name: "first", ranges: [[1, 1]], go: "Dockerfile:1\n--------------------\n   1 | >>> FROM busybox\n   2 |     COPY a /a\n   3 |     RUN false\n--------------------\n" },
  { name: "last", ranges: [[8, 8]], go: "Dockerfile:8\n--------------------\n   6 |     WORKDIR /w\n   7 |     RUN true\n   8 | >>> \n--------------------\n" },
  { name: "lastline", ranges: [[7, 7]], go: "Dockerfile:7\n--------------------\n   5 |     ENV X=1\n   6 |     WORKDIR /w\n   7 | >>> RUN true\n   8 |     \n--------------------\n" },
  { name: "beyond", ranges: [[9, 9]], go: "" },
  { name: "zero", ranges: [[0, 0]], go: "" },
  { name: "endbeyond", ranges: [[6, 20]], go: "Dockerfile:6\n--------------------\n   5 |     ENV X=1\n   6 | >>> WORKDIR /w\n   7 | >>> RUN true\n   8 | >>> \n--------------------\n" },
  { name: "two", ranges: [[2, 2], [6, 6]], go: "Dockerfile:2\n--------------------\n   1 |     FROM busybox\n   2 | >>> COPY a /a\n   3 |     RUN false\n   4 |     RUN echo <&>\n   5 |     ENV X=1\n   6 | >>> WORKDIR /w\n   7 |     RUN true\n--------------------\n" },
  { name: "endbefore", ranges: [[4, 2]], go: "Dockerfile:4\n--------------------\n   2 |     COPY a /a\n   3 |     RUN false\n   4 | >>> RUN echo <&>\n   5 |     ENV X=1\n   6 |     WORKDIR /w\n--------------------\n" },
  { name: "none", ranges: [], go: "" },
];

const range = ([start, end]: [number, number]): SourceRange => ({ start: { line: start, character: 0 }, end: { line: end, character: 0 } });

for (const c of CASES) {
  test(`formatSource prints as Go's Source.Print: ${c.name}`, () => {
    expect(formatSource({ info: { filename: "Dockerfile", data: DATA }, ranges: c.ranges.map(range) })).toBe(c.go);
  });
}

test("errorSources lists the sources innermost first, and SourcedError keeps the wrapped error's code", () => {
  const a = { info: { filename: "a", data: DATA }, ranges: [range([1, 1])] };
  const b = { info: { filename: "b", data: DATA }, ranges: [range([2, 2])] };
  const err = withSource(withSource(new BuildkitError("NotFound", "x"), a), b);
  expect(err).toBeInstanceOf(SourcedError);
  expect(err.code).toBe("NotFound");
  expect(err.message).toBe("x");
  expect(errorSources(err).map((s) => s.info.filename)).toEqual(["a", "b"]);
  expect(errorSources(new Error("plain"))).toEqual([]);
});
