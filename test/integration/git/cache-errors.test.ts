// The git source's cache (keyed by commit: no fetch while a ref has not moved) and its errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BuildkitError } from "../../../src/core/errors.ts";
import { git as gitState } from "../../../src/core/llb/index.ts";
import { cacheRepoDir, gitSource } from "../../../src/core/sources/git/index.ts";
import { makeRepo, requireGit, startGitDaemon, type GitDaemon, type GitRepo } from "../../fixtures/git.ts";
import { GitHarness, sourceOp } from "./harness.ts";

const run = requireGit("git source cache and errors");
const T = 60_000;

describe.skipIf(!run)("git source cache and errors", () => {
  let h: GitHarness;
  let daemon: GitDaemon;
  let repo: GitRepo;

  beforeAll(async () => {
    h = new GitHarness();
    repo = makeRepo(join(h.srv, "repo"), { commits: [{ files: { a: "1\n" } }, { files: { a: "2\n" } }] });
    daemon = await startGitDaemon(h.srv);
  }, T);

  afterAll(async () => {
    await daemon?.stop();
    h?.cleanup();
  });

  test("an unmoved ref: same key, no fetch; a moved branch: new key, one fetch", async () => {
    const op = sourceOp(gitState(daemon.url("repo"), "main"));
    const first = await h.run(op);
    expect(first.fetches).toEqual(["refs/heads/main"]);
    expect(first.statuses).toContain(`fetching ${daemon.url("repo")}`);
    const fetchHead = join(cacheRepoDir(h.cacheDir, daemon.url("repo")), "FETCH_HEAD");
    const mtime = statSync(fetchHead).mtimeMs;

    const second = await h.run(op);
    expect(second.key).toBe(first.key!);
    expect(second.fetches).toEqual([]);
    expect(second.statuses.some((s) => s.startsWith("fetching"))).toBe(false);
    expect(statSync(fetchHead).mtimeMs).toBe(mtime);

    const moved = repo.commit({ files: { a: "3\n" } });
    const third = await h.run(op);
    expect(third.key).toBe(moved);
    expect(third.fetches).toEqual(["refs/heads/main"]);
    expect(readFileSync(join(third.dir, "a"), "utf8")).toBe("3\n");
  }, T);

  test("the commit found for the key is the one checked out, even if the branch moves in between", async () => {
    const op = sourceOp(gitState(daemon.url("repo"), "main"));
    const before = repo.rev("main");
    const fetches: string[] = [];
    const adapter = gitSource(op, { ...h.workers, gitCacheDir: h.cacheDir, onFetch: (_r, w) => fetches.push(w) });
    const { ctx } = h.context();
    expect(await adapter.contentKey?.(ctx)).toBe(before);
    repo.commit({ files: { a: "racing\n" } });
    const [ref] = await adapter.exec([], ctx);
    expect(readFileSync(join(h.workers.dirOf(ref!.id), "a"), "utf8")).not.toBe("racing\n");
  }, T);

  test("a full SHA is its own key: no look-up at all", async () => {
    const sha = repo.rev("main~1");
    const fetches: string[] = [];
    const op = sourceOp(gitState("git://127.0.0.1:1/unreachable", sha));
    expect(await h.key(op, fetches)).toBe(sha);
    expect(fetches).toEqual([]);
  }, T);

  test("a server that will not serve a SHA: falls back to a full fetch", async () => {
    // Protocol v0 servers refuse unadvertised objects; make every git we run speak v0.
    const home = join(h.dir, "home-v0");
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, ".gitconfig"), "[protocol]\n\tversion = 0\n");
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const fresh = makeRepo(join(h.srv, "v0"), { commits: [{ files: { a: "1\n" } }, { files: { a: "2\n" } }] });
      const old = fresh.rev("main~1");
      const r = await h.run(sourceOp(gitState(daemon.url("v0"), old)));
      expect(r.fetches).toEqual([old, "all refs"]);
      expect(readFileSync(join(r.dir, "a"), "utf8")).toBe("1\n");
    } finally {
      process.env.HOME = saved;
    }
  }, T);

  test("concurrent builds of one remote share the cache repository", async () => {
    const conc = makeRepo(join(h.srv, "conc"), { commits: [1, 2, 3].map((n) => ({ files: { n: `${n}\n` } })) });
    const revs = ["main", "main~1", "main~2"].map((r) => conc.rev(r));
    const results = await Promise.all(revs.map((sha) => h.run(sourceOp(gitState(daemon.url("conc"), sha)))));
    expect(results.map((r) => r.key)).toEqual(revs);
    expect(results.map((r) => readFileSync(join(r.dir, "n"), "utf8"))).toEqual(["3\n", "2\n", "1\n"]);
  }, T);

  test("a canceled build stops and leaves no snapshot behind", async () => {
    const adapter = gitSource(sourceOp(gitState(daemon.url("repo"), "main")), { ...h.workers, gitCacheDir: h.cacheDir });
    const controller = new AbortController();
    const ctx = { ...h.context().ctx, signal: controller.signal };
    await adapter.contentKey?.(ctx);
    const before = await h.workers.worker.snapshotter.list();
    controller.abort(new BuildkitError("Canceled", "canceled"));
    const err = await adapter.exec([], ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "Canceled" });
    expect(await h.workers.worker.snapshotter.list()).toEqual(before);
  }, T);

  test("a ref the remote does not have: NotFound, one line", async () => {
    const url = daemon.url("repo");
    const err = await h.key(sourceOp(gitState(url, "nope"))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildkitError);
    expect(err).toMatchObject({ code: "NotFound", message: `git source ${url}#nope: ref "nope" not found in remote` });
  }, T);

  test("a commit the remote does not have: NotFound", async () => {
    const sha = "0123456789abcdef0123456789abcdef01234567";
    const url = daemon.url("repo");
    const err = await h.run(sourceOp(gitState(url, sha))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "NotFound", message: `git source ${url}#${sha}: commit ${sha} not found in remote` });
  }, T);

  test("a repository the remote does not have: NotFound", async () => {
    const path = join(h.srv, "missing");
    const err = await h.key(sourceOp(gitState(`file://${path}`, "main"))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "NotFound" });
    expect((err as Error).message).toStartWith(`git source file://${path}#main: `);
    expect((err as Error).message).not.toContain("\n");
  }, T);

  test("an unreachable remote: Unavailable with git's message on one line", async () => {
    const err = await h.key(sourceOp(gitState("git://127.0.0.1:1/repo", "main"))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "Unavailable" });
    const message = (err as Error).message;
    expect(message).toStartWith("git source git://127.0.0.1:1/repo#main: unable to connect to 127.0.0.1: ");
    expect(message).toContain("Connection refused");
    expect(message).not.toContain("\n");
  }, T);

  test("credentials in the remote are not shown in errors", async () => {
    const err = await h.key(sourceOp(gitState("http://user:s3cret@127.0.0.1:1/repo.git", "main"))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "Unavailable" });
    expect((err as Error).message).toStartWith("git source http://user:xxxxx@127.0.0.1:1/repo.git#main: ");
    expect((err as Error).message).not.toContain("s3cret");
  }, T);
});
