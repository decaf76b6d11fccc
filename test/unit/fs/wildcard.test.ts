import { describe, expect, test } from "bun:test";
import { BadPatternError, hasWildcards, matchWildcard, matchWildcardLenient, splitWildcards } from "../../../src/core/fs/wildcard.ts";

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

  test("matchWildcardLenient: a malformed pattern matches nothing", () => {
    expect(matchWildcardLenient("*.lnk", "a.lnk")).toBe(true);
    expect(matchWildcardLenient("a?", "ab")).toBe(true);
    expect(matchWildcardLenient("[", "[")).toBe(false);
  });
});
