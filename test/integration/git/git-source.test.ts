// The git source against real repositories, served by `git daemon` on 127.0.0.1 and by path.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { git as gitState } from "../../../src/core/llb/index.ts";
import { git, makeRepo, requireGit, startGitDaemon, type GitDaemon, type GitRepo } from "../../fixtures/git.ts";
import { GitHarness, sourceOp } from "./harness.ts";

const run = requireGit("git source integration");
const T = 60_000;

describe.skipIf(!run)("git source", () => {
  let h: GitHarness;
  let daemon: GitDaemon;
  let repo: GitRepo;
  let c: { light: string; v2: string; feature: string; main: string };

  beforeAll(async () => {
    h = new GitHarness();
    repo = makeRepo(join(h.srv, "repo"), {
      commits: [
        { files: { README: "v1\n", "dir/a.txt": "a1\n", "dir/nested/b.txt": "b\n", "run.sh": "#!/bin/sh\n" }, executable: ["run.sh"], tags: ["light"] },
        { files: { README: "v2\n" }, tags: [{ name: "v2", message: "release 2" }] },
        { branch: "feature", files: { "feature.txt": "f\n" } },
        { branch: "main", files: { README: "v3\n" } },
      ],
    });
    c = { light: repo.rev("light"), v2: repo.rev("v2"), feature: repo.rev("feature"), main: repo.rev("main") };
    makeRepo(join(h.srv, "sub"), { commits: [{ files: { "sub.txt": "sub\n" } }] });
    makeRepo(join(h.srv, "mid"), { commits: [{ files: { "mid.txt": "mid\n" }, submodules: { inner: "../sub" } }] });
    makeRepo(join(h.srv, "super"), { commits: [{ files: { "top.txt": "top\n" }, submodules: { "lib/mid": "../mid", "vendor/sub": "../sub" } }] });
    daemon = await startGitDaemon(h.srv);
  }, T);

  afterAll(async () => {
    await daemon?.stop();
    h?.cleanup();
  });

  const url = (name = "repo") => daemon.url(name);
  const read = (dir: string, path: string) => readFileSync(join(dir, path), "utf8");

  test("empty ref: the default branch", async () => {
    const r = await h.run(sourceOp(gitState(url())));
    expect(r.key).toBe(c.main);
    expect(read(r.dir, "README")).toBe("v3\n");
    expect(existsSync(join(r.dir, ".git"))).toBe(false);
    expect(existsSync(join(r.dir, "feature.txt"))).toBe(false);
    expect(statSync(join(r.dir, "run.sh")).mode & 0o111).not.toBe(0);
    expect(r.statuses).toContain(`resolving ${url()}`);
    expect(r.logs).toContain(`HEAD is now at ${c.main.slice(0, 7)}`);
  }, T);

  test("a branch", async () => {
    const r = await h.run(sourceOp(gitState(url(), "feature")));
    expect(r.key).toBe(c.feature);
    expect(read(r.dir, "feature.txt")).toBe("f\n");
    expect(read(r.dir, "README")).toBe("v2\n");
  }, T);

  test("a lightweight tag and an annotated tag", async () => {
    const light = await h.run(sourceOp(gitState(url(), "light")));
    expect(light.key).toBe(c.light);
    expect(read(light.dir, "README")).toBe("v1\n");
    const annotated = await h.run(sourceOp(gitState(url(), "v2")));
    expect(annotated.key).toBe(c.v2);
    expect(read(annotated.dir, "README")).toBe("v2\n");
  }, T);

  test("a full and a short commit SHA", async () => {
    const full = await h.run(sourceOp(gitState(url(), c.light)));
    expect(full.key).toBe(c.light);
    expect(read(full.dir, "README")).toBe("v1\n");
    const short = await h.run(sourceOp(gitState(url(), c.v2.slice(0, 8))));
    expect(short.key).toBe(c.v2);
    expect(read(short.dir, "README")).toBe("v2\n");
  }, T);

  test("keepGitDir on a branch: a real repository with that branch, HEAD detached at its commit (as BuildKit's checkout FETCH_HEAD), origin the remote", async () => {
    const r = await h.run(sourceOp(gitState(url(), "main", { keepGitDir: true })));
    expect(r.key).toBe(`${c.main}.git`);
    expect(git(r.dir, "rev-parse", "HEAD")).toBe(c.main);
    expect(Bun.spawnSync(["git", "symbolic-ref", "-q", "HEAD"], { cwd: r.dir }).exitCode).not.toBe(0);
    expect(git(r.dir, "rev-parse", "refs/heads/main")).toBe(c.main);
    expect(git(r.dir, "remote", "get-url", "origin")).toBe(url());
    expect(git(r.dir, "status", "--porcelain")).toBe("");
    expect(existsSync(join(r.dir, ".git/FETCH_HEAD"))).toBe(false);
    expect(git(r.dir, "fsck", "--connectivity-only")).toBe("");
  }, T);

  test("keepGitDir on an annotated tag and on a SHA: detached, the tag kept", async () => {
    const tag = await h.run(sourceOp(gitState(url(), "v2", { keepGitDir: true })));
    expect(git(tag.dir, "rev-parse", "HEAD")).toBe(c.v2);
    expect(git(tag.dir, "cat-file", "-t", "refs/tags/v2")).toBe("tag");
    expect(Bun.spawnSync(["git", "symbolic-ref", "-q", "HEAD"], { cwd: tag.dir }).exitCode).not.toBe(0);
    const sha = await h.run(sourceOp(gitState(url(), c.light, { keepGitDir: true })));
    expect(git(sha.dir, "rev-parse", "HEAD")).toBe(c.light);
    expect(git(sha.dir, "status", "--porcelain")).toBe("");
  }, T);

  test("subdir: only that directory, as the root", async () => {
    const r = await h.run(sourceOp(gitState(url(), "main", { subdir: "dir", keepGitDir: true })));
    expect(r.key).toBe(`${c.main}:dir`);
    expect(readdirSync(r.dir).sort()).toEqual(["a.txt", "nested"]);
    expect(read(r.dir, "nested/b.txt")).toBe("b\n");
  }, T);

  test("subdir that does not exist: NotFound", async () => {
    const err = await h.run(sourceOp(gitState(url(), "main", { subdir: "nope" }))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "NotFound", message: `git source ${url()}#main:nope: subdir "nope" not found at commit ${c.main}` });
  }, T);

  test("submodules, recursively, resolved against the remote (git daemon)", async () => {
    const r = await h.run(sourceOp(gitState(url("super"))));
    expect(read(r.dir, "top.txt")).toBe("top\n");
    expect(read(r.dir, "vendor/sub/sub.txt")).toBe("sub\n");
    expect(read(r.dir, "lib/mid/mid.txt")).toBe("mid\n");
    expect(read(r.dir, "lib/mid/inner/sub.txt")).toBe("sub\n");
    for (const p of [".git", "vendor/sub/.git", "lib/mid/.git", "lib/mid/inner/.git"]) expect(existsSync(join(r.dir, p))).toBe(false);
  }, T);

  test("submodules with keepGitDir, by file path", async () => {
    const r = await h.run(sourceOp(gitState(`file://${join(h.srv, "super")}`, "", { keepGitDir: true })));
    expect(read(r.dir, "lib/mid/inner/sub.txt")).toBe("sub\n");
    expect(git(join(r.dir, "lib/mid/inner"), "status", "--porcelain")).toBe("");
    const status = git(r.dir, "submodule", "status", "--recursive");
    // Each line starts with " " for a submodule at its recorded commit ("-" uninitialised, "+" moved).
    expect(status.split("\n").filter((l) => /^[-+U]/.test(l))).toEqual([]);
    expect(status.split("\n")).toHaveLength(3);
  }, T);

  test("a subdir with submodules in it", async () => {
    const r = await h.run(sourceOp(gitState(url("super"), "", { subdir: "lib" })));
    expect(read(r.dir, "mid/inner/sub.txt")).toBe("sub\n");
    expect(readdirSync(r.dir)).toEqual(["mid"]);
    expect(existsSync(join(r.dir, "mid/.git"))).toBe(false);
  }, T);

  test("a local path, with or without file://", async () => {
    const path = join(h.srv, "repo");
    const viaURL = await h.run(sourceOp(gitState(`file://${path}`, "feature")));
    expect(read(viaURL.dir, "feature.txt")).toBe("f\n");
    const viaPath = await h.run({ identifier: `git://${path}#light` });
    expect(read(viaPath.dir, "README")).toBe("v1\n");
  }, T);
});
