// Git sources through `buildkit build` on the real worker: a repository served by git daemon
// on 127.0.0.1 and one by path, cached by commit.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { git, scratch, copy } from "../../../src/core/llb/index.ts";
import { makeRepo, startGitDaemon, type GitDaemon, type GitRepo } from "../../fixtures/git.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "./harness.ts";

const run = requireIntegration("git build tests", { runc: true, busybox: true, tools: ["git"] });
let h: BuildHarness;
let daemon: GitDaemon;
let repo: GitRepo;
beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  const base = h.temp("repos");
  repo = makeRepo(join(base, "app"), { commits: [{ files: { "hello.txt": "v1\n" }, tags: ["v1"] }] });
  daemon = await startGitDaemon(base);
});
afterAll(async () => {
  await daemon?.stop();
  h?.cleanup();
});

describe.skipIf(!run)("git sources", () => {
  test("over git daemon: a tag, then a moved branch rebuilds, an unmoved one is cached", async () => {
    const out = h.temp("out");
    const build = (ref: string) =>
      h.build(
        h.base().run({ args: ["sh", "-c", "cat /src/hello.txt > /out/hello"], mounts: [{ dest: "/src", source: git(daemon.url("app"), ref), readonly: true }, { dest: "/out", source: scratch() }] }).getMount("/out")!,
        ["--output", `type=local,dest=${out}`],
      );
    expect((await build("v1")).code).toBe(0);
    expect(readFileSync(join(out, "hello"), "utf8")).toBe("v1\n");
    expect((await build("main")).code).toBe(0);
    const cached = await build("main");
    expect(cached.trace().filter((e) => e.type === "vertex" && e.completed && String(e.name).startsWith("git://"))[0]?.cached).toBe(true);
    repo.commit({ files: { "hello.txt": "v2\n" } });
    const moved = await build("main");
    expect(moved.code).toBe(0);
    expect(readFileSync(join(out, "hello"), "utf8")).toBe("v2\n");
  });

  test("by path, keeping .git", async () => {
    const out = h.temp("out");
    const r = await h.build(scratch().file(copy(git(repo.dir, "main", { keepGitDir: true }), "/", "/")), ["--output", `type=local,dest=${out}`]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "hello.txt"), "utf8")).toBe("v2\n");
    // Detached at the commit, as BuildKit leaves it; the branch is there under its name.
    expect(readFileSync(join(out, ".git/HEAD"), "utf8").trim()).toMatch(/^[0-9a-f]{40}$/);
    expect(readFileSync(join(out, ".git/refs/heads/main"), "utf8").trim()).toBe(readFileSync(join(out, ".git/HEAD"), "utf8").trim());
  });

  test("over http with a token from the GIT_AUTH_TOKEN secret (dumb http, which must see the header)", async () => {
    const gitDir = join(repo.dir, ".git");
    repo.git("update-server-info");
    const expected = `basic ${Buffer.from("x-access-token:tok3n").toString("base64")}`;
    const seen: (string | null)[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const auth = req.headers.get("Authorization");
        seen.push(auth);
        if (auth !== expected) return new Response("auth required", { status: 401, headers: { "WWW-Authenticate": 'Basic realm="git"' } });
        const path = new URL(req.url).pathname.replace(/^\/app\.git\//, "");
        const file = Bun.file(join(gitDir, path));
        return (await file.exists()) ? new Response(file) : new Response("not found", { status: 404 });
      },
    });
    try {
      const remote = `http://127.0.0.1:${server.port}/app.git`;
      const out = h.temp("out");
      const def = scratch().file(copy(git(remote, "main"), "/hello.txt", "/hello.txt"));
      const denied = await h.build(def);
      expect(denied.code).toBe(1);
      const host = `127.0.0.1:${server.port}`;
      expect(denied.stderr.trim().split("\n").at(-1)).toBe(
        `error: git://${host}/app.git#main: git source ${remote}#main: could not read Username for 'http://${host}': terminal prompts disabled`,
      );
      const token = join(h.temp("secret"), "token");
      writeFileSync(token, "tok3n\n");
      const r = await h.build(def, ["--secret", `id=GIT_AUTH_TOKEN,src=${token}`, "--output", `type=local,dest=${out}`]);
      if (r.code !== 0) console.log(r.stderr);
      expect(r.code).toBe(0);
      expect(readFileSync(join(out, "hello.txt"), "utf8")).toBe("v2\n");
      expect(seen.filter((a) => a === expected).length).toBeGreaterThan(0);
      expect(r.stderr).not.toContain("tok3n");
    } finally {
      server.stop(true);
    }
  });

  test("a ref that does not exist", async () => {
    const r = await h.build(git(daemon.url("app"), "nope"));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n").at(-1)).toBe(`error: git://127.0.0.1:${daemon.port}/app#nope: git source ${daemon.url("app")}#nope: ref "nope" not found in remote`);
  });
});
