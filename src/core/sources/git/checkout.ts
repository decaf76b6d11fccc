/**
 * A commit of the cache repository written out as a snapshot's content.
 *
 * Without keepGitDir the tree is checked out through a throwaway repository that borrows the
 * cache's objects (objects/info/alternates: nothing is copied) and is deleted afterwards, so the
 * result has no .git. With keepGitDir the result is a real, self-contained repository, as in
 * BuildKit: the commit is fetched at depth 1 from the cache, HEAD is the branch when the ref was
 * one (tracking origin/BRANCH) and detached otherwise, a tag ref keeps its tag, and origin is the
 * source's remote (credentials redacted). With a subdir only that directory is checked out and
 * becomes the root; a result with a subdir never has a .git (BuildKit's rule).
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { appendFile, copyFile, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BuildkitError } from "../../errors.ts";
import { runGit, tryGit, type GitCommandOptions } from "./git-command.ts";
import { gitError } from "./git-errors.ts";
import type { BareRepo } from "./fetch.ts";
import { isFileRemote, redactRemote } from "./identifier.ts";
import { removeSubmoduleGitFiles, submodulePaths, updateSubmodules } from "./submodules.ts";

export interface CheckoutOptions extends Omit<GitCommandOptions, "cwd"> {
  readonly repo: BareRepo;
  readonly commit: string;
  /** The ref the commit was found by (`refs/heads/x`, `refs/tags/v1`), if any. */
  readonly refName?: string;
  readonly subdir: string;
  readonly keepGitDir: boolean;
  /** How the source is named in errors (`REMOTE#REF`). */
  readonly describe: string;
}

const QUIET = ["advice.detachedHead=false", "init.defaultBranch=master"];

/** Writes the commit's tree (or its subdir) into `dest`, an empty directory. */
export async function checkoutInto(dest: string, opts: CheckoutOptions): Promise<void> {
  const o = { ...opts, config: [...QUIET, ...(opts.config ?? [])] };
  try {
    if (!o.subdir) return await (o.keepGitDir ? checkoutRepo(dest, o) : checkoutTree(dest, o));
    await requireTree(o);
    const work = join(dest, `.buildkit-git-${randomUUID()}`);
    await mkdir(work);
    try {
      await checkoutTree(work, o, o.subdir);
      await moveChildren(join(work, o.subdir), dest);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  } catch (err) {
    throw gitError(`git source ${o.describe}: checking out ${o.commit}`, err);
  }
}

async function requireTree(o: CheckoutOptions): Promise<void> {
  const type = await tryGit(["cat-file", "-t", "--end-of-options", `${o.commit}:${o.subdir}`], { ...o, cwd: o.repo.dir });
  if (type?.trim() !== "tree") {
    const what = type === undefined ? "not found" : "not a directory";
    throw new BuildkitError("NotFound", `git source ${o.describe}: subdir "${o.subdir}" ${what} at commit ${o.commit}`);
  }
}

/** The tree without .git: a throwaway repository over the cache's objects. */
async function checkoutTree(dir: string, o: CheckoutOptions, only?: string): Promise<void> {
  const git = { ...o, cwd: dir };
  await runGit(["init"], git);
  await writeFile(join(dir, ".git/objects/info/alternates"), `${join(o.repo.dir, "objects")}\n`);
  if (existsSync(join(o.repo.dir, "shallow"))) await copyFile(join(o.repo.dir, "shallow"), join(dir, ".git/shallow"));
  await addOrigin(dir, o.repo.remote); // submodules' relative URLs resolve against it
  const modules = await hasGitmodules(o);
  if (only === undefined) await runGit(["checkout", "--detach", o.commit], git);
  else await runGit(["checkout", o.commit, "--", only, ...(modules ? [".gitmodules"] : [])], git);
  if (modules) {
    await updateSubmodules(dir, { ...o, allowFile: isFileRemote(o.repo.remote), ...(only === undefined ? {} : { paths: [only] }) });
    await removeSubmoduleGitFiles(dir, await submodulePaths(dir, o));
  }
  await rm(join(dir, ".git"), { recursive: true, force: true });
  // .gitmodules was only checked out to find the submodules under `only`.
  if (only !== undefined && modules) await rm(join(dir, ".gitmodules"), { force: true });
}

/**
 * A self-contained repository at the commit, as BuildKit's git source leaves it: the branch or
 * tag the ref named fetched under its own name (refs/heads/main, refs/tags/v2, an annotated
 * tag as the tag object), and HEAD detached at the commit (its `checkout FETCH_HEAD`).
 */
async function checkoutRepo(dir: string, o: CheckoutOptions): Promise<void> {
  const git = { ...o, cwd: dir };
  await runGit(["-c", "init.defaultBranch=master", "init"], git);
  await addOrigin(dir, redactRemote(o.repo.remote));
  const local = o.refName?.startsWith("refs/heads/") || o.refName?.startsWith("refs/tags/") ? o.refName : undefined;
  // An annotated tag is fetched as the tag object, so the result keeps it.
  const object = local?.startsWith("refs/tags/") ? ((await tryGit(["rev-parse", "--verify", "--end-of-options", local], { ...o, cwd: o.repo.dir }))?.trim() ?? o.commit) : o.commit;
  // A fetch (never a local clone) copies only the objects of one commit: no hard links into the cache.
  await runGit(["fetch", "--depth=1", "--no-tags", "--end-of-options", o.repo.dir, local ? `+${object}:${local}` : object], git);
  await runGit(["checkout", "--detach", o.commit], git);
  if (await hasGitmodules(o)) await updateSubmodules(dir, { ...o, allowFile: isFileRemote(o.repo.remote) });
  // What the fetch from the cache leaves behind: its FETCH_HEAD and reflogs naming the cache.
  await rm(join(dir, ".git/FETCH_HEAD"), { force: true });
  await rm(join(dir, ".git/logs"), { recursive: true, force: true });
}

/** Adds the `origin` remote to the repository's config (a file write: no process). */
async function addOrigin(dir: string, url: string): Promise<void> {
  if (/[\n\0]/.test(url)) throw new BuildkitError("InvalidArgument", `invalid git remote ${JSON.stringify(url)}`);
  const quoted = url.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  await appendFile(join(dir, ".git/config"), `[remote "origin"]\n\turl = "${quoted}"\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n`);
}

async function hasGitmodules(o: CheckoutOptions): Promise<boolean> {
  return (await tryGit(["cat-file", "-t", "--end-of-options", `${o.commit}:.gitmodules`], { ...o, cwd: o.repo.dir })) !== undefined;
}

async function moveChildren(from: string, to: string): Promise<void> {
  for (const name of await readdir(from)) await rename(join(from, name), join(to, name));
}
