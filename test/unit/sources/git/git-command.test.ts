import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGit } from "../../../../src/core/sources/git/git-command.ts";

const dir = mkdtempSync(join(tmpdir(), "bk-git-command-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasGit = Bun.which("git") !== null;

describe.skipIf(!hasGit)("git's output in build logs", () => {
  test("init and a detached checkout forward no hints or advice", async () => {
    const repo = join(dir, "repo");
    const chunks: string[] = [];
    const opts = { cwd: dir, onStderr: (c: Uint8Array) => void chunks.push(Buffer.from(c).toString("utf8")), env: { HOME: dir } };
    await runGit(["init", repo], opts);
    const inRepo = { ...opts, cwd: repo };
    await runGit(["-c", "user.name=t", "-c", "user.email=t@t", "commit", "--allow-empty", "-m", "one"], inRepo);
    const head = (await runGit(["rev-parse", "HEAD"], inRepo)).trim();
    await runGit(["checkout", "--detach", head], inRepo);
    const logged = chunks.join("");
    expect(logged).not.toMatch(/^hint:/m);
    expect(logged).not.toContain("detached HEAD");
  });
});
