import { describe, expect, test } from "bun:test";
import { BuildkitError } from "../../../../src/core/errors.ts";
import { cleanPath, compilePatterns, matchElement } from "../../../../src/core/sources/local/patterns.ts";

const matches = (patterns: string[], path: string) => compilePatterns(patterns).matches(path, false);

describe("compilePatterns", () => {
  test("plain names match the path and everything below it", () => {
    expect(matches(["foo"], "foo")).toBe(true);
    expect(matches(["foo"], "foo/bar/baz")).toBe(true);
    expect(matches(["foo"], "foobar")).toBe(false);
    expect(matches(["foo/bar"], "foo")).toBe(false);
    expect(matches(["foo/bar"], "foo/bar/x")).toBe(true);
  });

  test("* and ? stay within one element", () => {
    expect(matches(["*.go"], "main.go")).toBe(true);
    expect(matches(["*.go"], "cmd/main.go")).toBe(false);
    expect(matches(["*/*.go"], "cmd/main.go")).toBe(true);
    expect(matches(["?.txt"], "a.txt")).toBe(true);
    expect(matches(["?.txt"], "ab.txt")).toBe(false);
    expect(matches(["a?b"], "a/b")).toBe(false);
  });

  test("** matches any number of elements", () => {
    expect(matches(["**/*.go"], "main.go")).toBe(true);
    expect(matches(["**/*.go"], "a/b/c/main.go")).toBe(true);
    expect(matches(["**/vendor"], "vendor/x")).toBe(true);
    expect(matches(["**/vendor"], "a/b/vendor")).toBe(true);
    expect(matches(["**/vendor"], "a/notvendor")).toBe(false);
    expect(matches(["a/**/z"], "a/z")).toBe(true);
    expect(matches(["a/**/z"], "a/b/c/z")).toBe(true);
    expect(matches(["a/**"], "a/b/c")).toBe(true);
    expect(matches(["a/**"], "a")).toBe(false);
    expect(matches(["**"], "anything/at/all")).toBe(true);
  });

  test("character classes and escapes", () => {
    expect(matches(["[abc].txt"], "b.txt")).toBe(true);
    expect(matches(["[abc].txt"], "d.txt")).toBe(false);
    expect(matches(["[^abc].txt"], "d.txt")).toBe(true);
    expect(matches(["[a-c]*"], "cat")).toBe(true);
    expect(matches(["\\*.txt"], "*.txt")).toBe(true);
    expect(matches(["\\*.txt"], "a.txt")).toBe(false);
    expect(matches(["a.b"], "axb")).toBe(false);
    expect(matches(["(x)"], "(x)")).toBe(true);
  });

  test("negation: the last matching pattern wins", () => {
    expect(matches(["*.md", "!README.md"], "README.md")).toBe(false);
    expect(matches(["*.md", "!README.md"], "CHANGES.md")).toBe(true);
    expect(matches(["*.md", "!README.md", "README*"], "README.md")).toBe(true);
    expect(matches(["docs", "!docs/keep"], "docs/keep/a")).toBe(false);
    expect(matches(["docs", "!docs/keep"], "docs/other")).toBe(true);
    expect(matches(["a", "!a/b", "a"], "a/b")).toBe(true);
    expect(matches(["!foo"], "foo")).toBe(false);
  });

  test("leading and trailing slashes, dots and whitespace are cleaned", () => {
    expect(matches(["/foo"], "foo/x")).toBe(true);
    expect(matches(["foo/"], "foo")).toBe(true);
    expect(matches(["./foo//bar/"], "foo/bar")).toBe(true);
    expect(matches(["  foo  "], "foo")).toBe(true);
    expect(matches(["!/foo/", "*"], "foo")).toBe(true);
    expect(matches(["*", "!/foo/"], "foo")).toBe(false);
    expect(compilePatterns(["", "   "]).patterns).toEqual([]);
    expect(compilePatterns(["!/a/b/"]).patterns).toEqual([{ text: "a/b", exclusion: true }]);
  });

  test("match() with a parent state agrees with the stand-alone check", () => {
    const m = compilePatterns(["a", "!a/b", "**/c", "!x/**/c"]);
    const paths = ["a", "a/b", "a/b/c", "a/b/c/d", "x", "x/y", "x/y/c", "q/c"];
    const states = new Map<string, ReturnType<typeof m.match>>();
    for (const path of paths) {
      const parent = path.includes("/") ? states.get(path.slice(0, path.lastIndexOf("/"))) : undefined;
      const state = m.match(path, parent);
      states.set(path, state);
      expect(state.matched).toBe(m.matches(path, false));
    }
  });

  test("mayFlipInside says whether a subtree can hold the opposite verdict", () => {
    const include = compilePatterns(["src/**/*.ts", "docs/api"]);
    const flip = (dir: string) => include.mayFlipInside(dir, include.match(dir));
    expect(flip("src")).toBe(true);
    expect(flip("docs")).toBe(true);
    expect(flip("test")).toBe(false);
    expect(flip("docs/guide")).toBe(false);
    const exclude = compilePatterns(["node_modules", "build", "!build/keep.txt"]);
    const flipEx = (dir: string) => exclude.mayFlipInside(dir, exclude.match(dir));
    expect(flipEx("node_modules")).toBe(false);
    expect(flipEx("build")).toBe(true);
    expect(compilePatterns(["*", "!**/x"]).mayFlipInside("deep", compilePatterns(["*", "!**/x"]).match("deep"))).toBe(true);
  });

  test("malformed patterns are InvalidArgument", () => {
    for (const bad of ["[abc", "a\\", "!", "[]", "[]a]", "[a-]", "[-a]"]) {
      expect(() => compilePatterns([bad])).toThrow(BuildkitError);
    }
    try {
      compilePatterns(["[abc"]);
    } catch (err) {
      expect((err as BuildkitError).code).toBe("InvalidArgument");
      expect((err as Error).message).toStartWith('parsing pattern "[abc": ');
    }
  });
});

describe("helpers", () => {
  test("cleanPath is Go's path.Clean", () => {
    expect(cleanPath("a//b/./c/..")).toBe("a/b");
    expect(cleanPath("/../a/")).toBe("/a");
    expect(cleanPath("../a")).toBe("../a");
    expect(cleanPath("")).toBe(".");
    expect(cleanPath("./")).toBe(".");
  });

  test("matchElement is filepath.Match for one element", () => {
    expect(matchElement("*.lnk", "a.lnk")).toBe(true);
    expect(matchElement("a?", "ab")).toBe(true);
    expect(matchElement("[", "[")).toBe(false);
  });
});
