import { describe, expect, test } from "bun:test";
import { isAbbrevSHA, isFullCommitSHA, parseLsRemote, pickRef } from "../../../../src/core/sources/git/resolve.ts";
import { condenseGitMessage } from "../../../../src/core/sources/git/git-errors.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);
const D = "d".repeat(40);

describe("parseLsRemote", () => {
  test("SHA and name per line; --symref lines kept as `ref: …`", () => {
    expect(parseLsRemote(`ref: refs/heads/main\tHEAD\n${A}\tHEAD\n${B}\trefs/tags/v1\n`)).toEqual([
      { sha: "ref: refs/heads/main", name: "HEAD" },
      { sha: A, name: "HEAD" },
      { sha: B, name: "refs/tags/v1" },
    ]);
  });
});

describe("pickRef (BuildKit's preference: refs/REF, then a branch, then a tag)", () => {
  const lines = parseLsRemote(
    [`${A}\trefs/heads/v1`, `${B}\trefs/tags/v1`, `${C}\trefs/tags/v1^{}`, `${D}\trefs/heads/feature/x`, `${B}\trefs/tags/only`, `${C}\trefs/tags/only^{}`].join("\n"),
  );

  test("a branch wins over a tag of the same name", () => {
    expect(pickRef("v1", lines)).toEqual({ name: "refs/heads/v1", commit: A });
  });

  test("an annotated tag gives its commit (the peeled line)", () => {
    expect(pickRef("only", lines)).toEqual({ name: "refs/tags/only", commit: C });
    expect(pickRef("tags/v1", lines)).toEqual({ name: "refs/tags/v1", commit: C });
  });

  test("full ref names and branch names with slashes", () => {
    expect(pickRef("refs/tags/v1", lines)).toEqual({ name: "refs/tags/v1", commit: C });
    expect(pickRef("feature/x", lines)).toEqual({ name: "refs/heads/feature/x", commit: D });
    expect(pickRef("heads/feature/x", lines)).toEqual({ name: "refs/heads/feature/x", commit: D });
  });

  test("a lightweight tag", () => {
    expect(pickRef("light", parseLsRemote(`${A}\trefs/tags/light\n`))).toEqual({ name: "refs/tags/light", commit: A });
  });

  test("no match is undefined", () => {
    expect(pickRef("nope", lines)).toBeUndefined();
    expect(pickRef("x", lines)).toBeUndefined(); // feature/x is not "x"
  });
});

describe("SHA shapes", () => {
  test("full and abbreviated", () => {
    expect(isFullCommitSHA(A)).toBe(true);
    expect(isFullCommitSHA("e".repeat(64))).toBe(true);
    expect(isFullCommitSHA("abc")).toBe(false);
    expect(isFullCommitSHA(A.toUpperCase())).toBe(false);
    expect(isAbbrevSHA("abc1234")).toBe(true);
    expect(isAbbrevSHA("abc")).toBe(false);
    expect(isAbbrevSHA("main")).toBe(false);
  });
});

describe("condenseGitMessage", () => {
  test("an unreachable daemon", () => {
    expect(condenseGitMessage("fatal: unable to connect to 127.0.0.1:\n127.0.0.1[0: 127.0.0.1]: errno=Connection refused\n\n")).toBe(
      "unable to connect to 127.0.0.1: 127.0.0.1[0: 127.0.0.1]: errno=Connection refused",
    );
  });

  test("a missing repository, without git's advice", () => {
    const stderr = "fatal: '/tmp/x' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n";
    expect(condenseGitMessage(stderr)).toBe("'/tmp/x' does not appear to be a git repository; Could not read from remote repository");
  });

  test("progress lines dropped", () => {
    expect(condenseGitMessage("remote: Enumerating objects: 3, done.\rReceiving objects: 100% (3/3)\nerror: boom\n")).toBe("boom");
  });
});
