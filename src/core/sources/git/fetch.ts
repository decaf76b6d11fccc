/**
 * The git cache: one bare repository per remote under the cache dir, named by the SHA-256 of
 * the remote URL, that keeps every commit it was asked for. A commit already there is never
 * fetched again. Fetches are shallow (`--depth=1`) by ref name or by SHA, falling back to a
 * full fetch for servers that refuse to serve an unadvertised SHA. One fetch at a time per
 * repository (an in-process lock: one process owns a state directory).
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { appendFile, mkdir, rename, rm, utimes } from "node:fs/promises";
import { join } from "node:path";
import { BuildkitError } from "../../errors.ts";
import { GitCommandError, runGit, tryGit, type GitCommandOptions } from "./git-command.ts";
import { gitError, remoteErrorCode } from "./git-errors.ts";
import type { RemoteRef } from "./resolve.ts";

export interface BareRepo {
  readonly dir: string;
  readonly remote: string;
}

/** Settings of the cache repository: no automatic gc (it would drop fetched commits no ref holds). */
const CACHE_CONFIG = `[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n[fetch]\n\twriteCommitGraph = false\n[uploadpack]\n\tallowAnySHA1InWant = true\n`;

export function cacheRepoDir(cacheDir: string, remote: string): string {
  return join(cacheDir, createHash("sha256").update(remote).digest("hex"));
}

/** The cache repository for `remote`, created (atomically, by rename) when missing. */
export async function openBareRepo(cacheDir: string, remote: string, opts: Omit<GitCommandOptions, "cwd"> = {}): Promise<BareRepo> {
  const dir = cacheRepoDir(cacheDir, remote);
  if (existsSync(join(dir, "HEAD"))) {
    // Used now: the cache's garbage collection (cache-gc.ts) keeps recently used repositories.
    const now = new Date();
    await utimes(dir, now, now).catch(() => undefined);
    return { dir, remote };
  }
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${dir}.tmp-${randomUUID()}`;
  try {
    await mkdir(tmp);
    await runGit(["init", "--bare"], { ...opts, cwd: tmp });
    await appendFile(join(tmp, "config"), CACHE_CONFIG);
    await rename(tmp, dir).catch((err: unknown) => {
      if (!existsSync(join(dir, "HEAD"))) throw err; // else another one won the race
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { dir, remote };
}

const locks = new Map<string, Promise<void>>();

/** Runs fn while holding the repository's lock. */
export async function withRepoLock<T>(repo: BareRepo, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(repo.dir) ?? Promise.resolve();
  let release = (): void => undefined;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = prev.then(() => mine);
  locks.set(repo.dir, tail);
  await prev;
  try {
    return await fn();
  } finally {
    release();
    if (locks.get(repo.dir) === tail) locks.delete(repo.dir);
  }
}

export interface FetchOptions extends Omit<GitCommandOptions, "cwd"> {
  /** How the source is named in errors (`REMOTE#REF`). */
  readonly describe: string;
  /** Called before each fetch from the remote (for progress, and for tests to count). */
  readonly onFetch?: (what: string) => void;
}

/** Whether `name` (a SHA or ref) is a commit in the repository: its full SHA, or undefined. */
export async function commitOf(repo: BareRepo, name: string, opts: Omit<GitCommandOptions, "cwd"> = {}): Promise<string | undefined> {
  // Not --quiet: simple-git waits 50 ms more for a command that prints nothing at all.
  const out = await tryGit(["rev-parse", "--verify", "--end-of-options", `${name}^{commit}`], { ...opts, cwd: repo.dir });
  return out?.trim() || undefined;
}

/** Makes sure the commit `want` names is in the repository (fetching only when it is not); returns it. */
export async function ensureCommit(repo: BareRepo, want: RemoteRef, opts: FetchOptions): Promise<string> {
  return withRepoLock(repo, async () => {
    const found = await present(repo, want, opts);
    if (found) return found;
    for (const attempt of attempts(want)) {
      await fetch(repo, attempt, opts);
      const got = await present(repo, want, opts);
      if (got) return got;
    }
    const what = want.kind === "abbrev" ? want.prefix : want.commit;
    throw new BuildkitError("NotFound", `git source ${opts.describe}: commit ${what} not found in remote`);
  });
}

/** The wanted commit when the repository has it (and, for a tag, the tag itself at that commit). */
async function present(repo: BareRepo, want: RemoteRef, opts: FetchOptions): Promise<string | undefined> {
  switch (want.kind) {
    case "commit":
      return commitOf(repo, want.commit, opts);
    case "abbrev":
      return commitOf(repo, want.prefix, opts);
    case "named": {
      const name = want.name.startsWith("refs/tags/") ? want.name : want.commit;
      return (await commitOf(repo, name, opts)) === want.commit ? want.commit : undefined;
    }
    default: {
      const never: never = want;
      throw new Error(`unknown ref kind ${String(never)}`);
    }
  }
}

type Attempt = { readonly kind: "ref"; readonly name: string } | { readonly kind: "sha"; readonly sha: string } | { readonly kind: "all" };

/** Cheapest first: the ref by name (any server), the commit by SHA (most servers), everything. */
function attempts(want: RemoteRef): Attempt[] {
  switch (want.kind) {
    case "named":
      return [{ kind: "ref", name: want.name }, { kind: "sha", sha: want.commit }, { kind: "all" }];
    case "commit":
      return [{ kind: "sha", sha: want.commit }, { kind: "all" }];
    case "abbrev":
      return [{ kind: "all" }];
    default: {
      const never: never = want;
      throw new Error(`unknown ref kind ${String(never)}`);
    }
  }
}

async function fetch(repo: BareRepo, attempt: Attempt, opts: FetchOptions): Promise<void> {
  const args = await fetchArgs(repo, attempt, opts);
  opts.onFetch?.(attempt.kind === "ref" ? attempt.name : attempt.kind === "sha" ? attempt.sha : "all refs");
  try {
    await runGit(["fetch", "--progress", "--update-head-ok", ...args], { ...opts, cwd: repo.dir });
  } catch (err) {
    // A server that will not serve a SHA (or a ref gone since ls-remote): try the next way.
    if (attempt.kind !== "all" && err instanceof GitCommandError) return;
    throw gitError(`git source ${opts.describe}: fetching`, err, remoteErrorCode);
  }
}

async function fetchArgs(repo: BareRepo, attempt: Attempt, opts: FetchOptions): Promise<string[]> {
  switch (attempt.kind) {
    case "ref": {
      const dest = attempt.name.startsWith("refs/") ? attempt.name : `refs/buildkit/${attempt.name}`;
      const tags = attempt.name.startsWith("refs/tags/") ? [] : ["--no-tags"];
      return ["--depth=1", ...tags, "--end-of-options", repo.remote, `+${attempt.name}:${dest}`];
    }
    case "sha":
      return ["--depth=1", "--no-tags", "--end-of-options", repo.remote, `+${attempt.sha}:refs/buildkit/commits/${attempt.sha}`];
    case "all": {
      const shallow = (await runGit(["rev-parse", "--is-shallow-repository"], { ...opts, cwd: repo.dir })).trim() === "true";
      return [...(shallow ? ["--unshallow"] : []), "--end-of-options", repo.remote, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];
    }
    default: {
      const never: never = attempt;
      throw new Error(`unknown fetch ${String(never)}`);
    }
  }
}
