import { describe, expect, test } from "bun:test";
import { BuildkitError } from "../../../src/core/errors.ts";
import { cleanPath, PatternMatcher } from "../../../src/core/fs/patterns.ts";
import type { MatchState } from "../../../src/core/fs/patterns.ts";

const matches = (patterns: string[], path: string) => new PatternMatcher(patterns).matches(path);

/** The verdict for `path` when walking down to it, each directory's state handed to its children. */
function walkMatch(pm: PatternMatcher, path: string): boolean {
  const parts = path.split("/");
  let state: MatchState | undefined;
  parts.forEach((_, i) => {
    state = pm.match(parts.slice(0, i + 1).join("/"), state);
  });
  return state?.matched ?? false;
}

describe("PatternMatcher (.dockerignore)", () => {
  const cases: [string[], string, boolean][] = [
    [["*.go"], "a.go", true],
    [["*.go"], "dir/a.go", false],
    [["**/*.go"], "dir/sub/a.go", true],
    [["**/*.go"], "a.go", true],
    [["**"], "anything/at/all", true],
    [["dir/**"], "dir/x/y", true],
    [["a/**/b"], "a/b", true],
    [["a/**/b"], "a/x/y/b", true],
    [["**/foo"], "foo", true],
    [["**/foo"], "x/foo", true],
    [["dir"], "dir/sub/file", true],
    [["./dir/"], "dir/file", true],
    [["*", "!keep"], "keep", false],
    [["*", "!keep"], "other", true],
    [["*", "!keep", "keep"], "keep", true],
    [["docs", "!docs/README.md"], "docs/README.md", false],
    [["docs", "!docs/README.md"], "docs/other.md", true],
    [["a?c"], "abc", true],
    [["[a-c]x"], "bx", true],
    [["f.o"], "fxo", false],
    [["  spaced  "], "spaced", true],
  ];
  for (const [patterns, file, want] of cases) {
    test(`${JSON.stringify(patterns)} ~ ${file} → ${want}`, () => expect(matches(patterns, file)).toBe(want));
  }

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
  });

  test("character classes and escapes are filepath.Match's", () => {
    expect(matches(["[abc].txt"], "b.txt")).toBe(true);
    expect(matches(["[abc].txt"], "d.txt")).toBe(false);
    expect(matches(["[^abc].txt"], "d.txt")).toBe(true);
    expect(matches(["[a-c]*"], "cat")).toBe(true);
    expect(matches(["\\*.txt"], "*.txt")).toBe(true);
    expect(matches(["\\*.txt"], "a.txt")).toBe(false);
    expect(matches(["a.b"], "axb")).toBe(false);
    expect(matches(["(x)"], "(x)")).toBe(true);
    expect(matches(["[\\]x]*", "!x*"], "]a")).toBe(true);
    expect(matches(["[z-a]*"], "m")).toBe(false);
    expect(matches(["[^z-a]"], "m")).toBe(true);
    expect(matches(["\\d*"], "d1")).toBe(true);
    expect(matches(["\\d*"], "1")).toBe(false);
    expect(matches(["a^*"], "a^b")).toBe(true);
    expect(matches(["[☺-☻]?"], "☻x")).toBe(true);
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
    expect(matches(["*", "! ./foo"], "foo")).toBe(false);
    expect(new PatternMatcher(["", "   "]).patterns).toEqual([]);
    expect(new PatternMatcher(["!/a/b/"]).patterns).toEqual([{ text: "a/b", exclusion: true }]);
    expect(new PatternMatcher(["a"]).hasExclusions).toBe(false);
    expect(new PatternMatcher(["a", "!a/b"]).hasExclusions).toBe(true);
  });

  test("match() with a parent state agrees with the stand-alone check", () => {
    const m = new PatternMatcher(["a", "!a/b", "**/c", "!x/**/c"]);
    const paths = ["a", "a/b", "a/b/c", "a/b/c/d", "x", "x/y", "x/y/c", "q/c"];
    const states = new Map<string, MatchState>();
    for (const path of paths) {
      const parent = path.includes("/") ? states.get(path.slice(0, path.lastIndexOf("/"))) : undefined;
      const state = m.match(path, parent);
      states.set(path, state);
      expect(state.matched).toBe(m.matches(path));
      expect(m.match(path).matched).toBe(m.matches(path));
    }
  });

  test("walking with parent states agrees with whole-path matching", () => {
    const pm = new PatternMatcher(["docs", "!docs/keep", "**/*.tmp"]);
    for (const path of ["docs", "docs/keep", "docs/keep/x", "docs/other", "src/a.tmp", "src/a.go"]) {
      expect(walkMatch(pm, path)).toBe(pm.matches(path));
    }
    // moby's MatchesUsingParentResults forgets the last "a" here (skipped at "a"); last match wins.
    const again = new PatternMatcher(["a", "!a/b", "a"]);
    expect(walkMatch(again, "a/b")).toBe(true);
    expect(walkMatch(again, "a/b/c")).toBe(true);
  });

  test("mayFlipInside says whether a subtree can hold the opposite verdict", () => {
    const include = new PatternMatcher(["src/**/*.ts", "docs/api"]);
    const flip = (dir: string) => include.mayFlipInside(dir, include.match(dir));
    expect(flip("src")).toBe(true);
    expect(flip("docs")).toBe(true);
    expect(flip("test")).toBe(false);
    expect(flip("docs/guide")).toBe(false);
    const exclude = new PatternMatcher(["node_modules", "build", "!build/keep.txt"]);
    const flipEx = (dir: string) => exclude.mayFlipInside(dir, exclude.match(dir));
    expect(flipEx("node_modules")).toBe(false);
    expect(flipEx("build")).toBe(true);
    const deep = new PatternMatcher(["*", "!**/x"]);
    expect(deep.mayFlipInside("deep", deep.match("deep"))).toBe(true);
    const cls = new PatternMatcher(["a[^x]b", "q\\/r"]);
    expect(cls.mayFlipInside("a", cls.match("a"))).toBe(true);
    expect(cls.mayFlipInside("q\\", cls.match("q\\"))).toBe(true);
  });

  test("malformed patterns are InvalidArgument errors", () => {
    expect(() => new PatternMatcher(["!"])).toThrow('illegal exclusion pattern: "!"');
    expect(() => new PatternMatcher(["[-]"])).toThrow('invalid pattern "[-]": syntax error in pattern');
    for (const bad of ["[abc", "a\\", "!", "[]", "[]a]", "[a-]", "[-a]", "a["]) {
      expect(() => new PatternMatcher([bad])).toThrow(BuildkitError);
    }
    let caught: unknown;
    try {
      new PatternMatcher(["[abc"]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BuildkitError);
    expect((caught as BuildkitError).code).toBe("InvalidArgument");
    expect((caught as Error).message).toBe('invalid pattern "[abc": syntax error in pattern');
  });
});

test("cleanPath is Go's path.Clean", () => {
  expect(cleanPath("a//b/./c/..")).toBe("a/b");
  expect(cleanPath("/../a/")).toBe("/a");
  expect(cleanPath("../a")).toBe("../a");
  expect(cleanPath("")).toBe(".");
  expect(cleanPath("./")).toBe(".");
});
