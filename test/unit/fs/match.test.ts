import { describe, expect, test } from "bun:test";
import { BuildkitError } from "../../../src/core/errors.ts";
import { parseModeString } from "../../../src/core/fs/mode-string.ts";
import { NO_MATCH_INFO, PatternMatcher } from "../../../src/core/fs/pattern-matcher.ts";
import type { MatchInfo } from "../../../src/core/fs/pattern-matcher.ts";
import { BadPatternError, hasWildcards, matchWildcard, splitWildcards } from "../../../src/core/fs/wildcard.ts";

describe("matchWildcard (Go filepath.Match)", () => {
  // Cases from Go's path/filepath match_test.go.
  const cases: [string, string, boolean][] = [
    ["abc", "abc", true],
    ["*", "abc", true],
    ["*c", "abc", true],
    ["a*", "a", true],
    ["a*", "abc", true],
    ["a*", "ab/c", false],
    ["a*/b", "abc/b", true],
    ["a*/b", "a/c/b", false],
    ["a*b*c*d*e*/f", "axbxcxdxe/f", true],
    ["a*b*c*d*e*/f", "axbxcxdxexxx/f", true],
    ["a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false],
    ["a*b*c*d*e*/f", "axbxcxdxexxx/fff", false],
    ["a*b?c*x", "abxbbxdbxebxczzx", true],
    ["a*b?c*x", "abxbbxdbxebxczzy", false],
    ["ab[c]", "abc", true],
    ["ab[b-d]", "abc", true],
    ["ab[e-g]", "abc", false],
    ["ab[^c]", "abc", false],
    ["ab[^b-d]", "abc", false],
    ["ab[^e-g]", "abc", true],
    ["a\\*b", "a*b", true],
    ["a\\*b", "ab", false],
    ["a?b", "a☺b", true],
    ["a[^a]b", "a☺b", true],
    ["a???b", "a☺b", false],
    ["a[^a][^a][^a]b", "a☺b", false],
    ["[a-ζ]*", "α", true],
    ["*[a-ζ]", "A", false],
    ["a?b", "a/b", false],
    ["a*b", "a/b", false],
    ["[\\]a]", "]", true],
    ["[\\-]", "-", true],
    ["[x\\-]", "x", true],
    ["[x\\-]", "-", true],
    ["[x\\-]", "z", false],
    ["[\\-x]", "x", true],
    ["*x", "xxx", true],
  ];
  for (const [pattern, name, want] of cases) {
    test(`${pattern} ~ ${name} → ${want}`, () => expect(matchWildcard(pattern, name)).toBe(want));
  }

  test("malformed patterns throw", () => {
    for (const bad of ["[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a[", "*x\\", "a*["]) {
      expect(() => matchWildcard(bad, "a")).toThrow(BadPatternError);
    }
  });

  test("hasWildcards and splitWildcards", () => {
    expect(hasWildcards("a*b")).toBe(true);
    expect(hasWildcards("a\\*b")).toBe(false);
    expect(hasWildcards("[ab]")).toBe(true);
    expect(splitWildcards("/a/b*/c")).toEqual(["/a", "b*/c"]);
    expect(splitWildcards("/*.txt")).toEqual(["/", "*.txt"]);
    expect(splitWildcards("a/?")).toEqual(["a", "?"]);
    expect(splitWildcards("/a/b")).toEqual(["/a/b", ""]);
  });
});

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
    test(`${JSON.stringify(patterns)} ~ ${file} → ${want}`, () => {
      expect(new PatternMatcher(patterns).matchesOrParentMatches(file)).toBe(want);
    });
  }

  test("walking with parent results agrees with whole-path matching", () => {
    const pm = new PatternMatcher(["docs", "!docs/keep", "**/*.tmp"]);
    const walk = (parts: string[]): boolean => {
      let info: MatchInfo = NO_MATCH_INFO;
      let matched = false;
      parts.forEach((_, i) => {
        const r = pm.matchesUsingParentResults(parts.slice(0, i + 1).join("/"), info);
        [matched, info] = [r.matched, r.info];
      });
      return matched;
    };
    for (const path of ["docs", "docs/keep", "docs/keep/x", "docs/other", "src/a.tmp", "src/a.go"]) {
      expect(walk(path.split("/"))).toBe(pm.matchesOrParentMatches(path));
    }
  });

  test("invalid patterns are InvalidArgument errors", () => {
    expect(() => new PatternMatcher(["!"])).toThrow('illegal exclusion pattern: "!"');
    expect(() => new PatternMatcher(["[-]"])).toThrow('invalid pattern "[-]": syntax error in pattern');
    expect(() => new PatternMatcher(["a["])).toThrow(BuildkitError);
  });

  test("empty and blank patterns are ignored", () => {
    expect(new PatternMatcher(["", "   "]).patterns).toHaveLength(0);
  });
});

describe("parseModeString (chmod syntax)", () => {
  const cases: [string, number, boolean, number][] = [
    ["0755", 0o600, false, 0o755],
    ["755", 0o600, false, 0o755],
    ["4755", 0o000, false, 0o4755],
    ["u+x,g-w", 0o664, false, 0o744],
    ["+x", 0o644, false, 0o755],
    ["a-x", 0o755, false, 0o644],
    ["go-w", 0o666, false, 0o644],
    ["go=", 0o777, false, 0o700],
    ["=rw,+X", 0o644, false, 0o666],
    ["=rw,+X", 0o744, false, 0o777],
    ["=rw,+X", 0o644, true, 0o777],
    ["u=rwx,go=u-w", 0o000, false, 0o755],
    ["o=u", 0o750, false, 0o757],
    ["u+s", 0o755, false, 0o4755],
    ["g+s", 0o755, false, 0o2755],
    ["+t", 0o755, true, 0o1755],
    ["o+t", 0o755, true, 0o755],
    ["u-x+w", 0o500, false, 0o600],
  ];
  for (const [s, before, isDir, want] of cases) {
    test(`${s} on ${before.toString(8)}${isDir ? " (dir)" : ""} → ${want.toString(8)}`, () => {
      expect(parseModeString(s).apply(before, isDir)).toBe(want);
    });
  }

  test("malformed mode strings are rejected", () => {
    for (const bad of ["", "u", "u+x,", "z+x", "0999", "17777", "u*x", "+x,,"]) {
      expect(() => parseModeString(bad)).toThrow(`invalid mode string ${JSON.stringify(bad)}: invalid syntax`);
    }
  });
});
