// The shared in-root walk: driven with a fake link table, so no files are needed.
import { expect, test } from "bun:test";
import { MAX_SYMLINKS, runWalkSync, walkInRoot } from "../../../src/core/fs/root-walk.ts";

const tooMany = () => new Error("too many links");
const walk = (parts: string[], links: Record<string, string>, followFinal = true) =>
  runWalkSync(walkInRoot(parts, { followFinal, tooManyLinks: tooMany }), (c) => links[c.join("/")]);

test("absolute links restart at the root, relative ones at their directory", () => {
  expect(walk(["a", "b"], { a: "/x/y" })).toEqual({ parts: ["x", "y", "b"], escaped: false });
  expect(walk(["d", "l"], { "d/l": "../e" })).toEqual({ parts: ["e"], escaped: false });
});

test("a .. above the root is clamped and reported", () => {
  expect(walk(["a", "l"], { "a/l": "../../../etc" })).toEqual({ parts: ["etc"], escaped: true });
});

test("the final link is kept when followFinal is false", () => {
  expect(walk(["a"], { a: "/b" }, false)).toEqual({ parts: ["a"], escaped: false });
});

test("one limit for loops, the same for every caller", () => {
  expect(MAX_SYMLINKS).toBe(255);
  expect(() => walk(["l"], { l: "/l" })).toThrow("too many links");
});
