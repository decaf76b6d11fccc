/**
 * Submodules of a checked-out work tree, cloned from their remotes as git resolves them: a
 * relative URL in .gitmodules is taken relative to the work tree's `origin` (the source's own
 * remote, so the same transport). Shallow first; a server that will not serve the recorded
 * commit at depth 1 gets a full clone.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { GitCommandError, runGit, type GitCommandOptions } from "./git-command.ts";
import { gitError, remoteErrorCode } from "./git-errors.ts";

export interface SubmoduleOptions extends Omit<GitCommandOptions, "cwd"> {
  /** Allow file:// and path submodules (only when the superproject's own remote is one). */
  readonly allowFile: boolean;
  /** Only submodules under these paths. */
  readonly paths?: readonly string[];
  readonly describe: string;
}

/** Clones and checks out every submodule (recursively) of the work tree at `dir`. */
export async function updateSubmodules(dir: string, opts: SubmoduleOptions): Promise<void> {
  const config = [...(opts.config ?? []), ...(opts.allowFile ? ["protocol.file.allow=always"] : [])];
  const run = (depth: string[]) =>
    runGit(["submodule", "update", "--init", "--recursive", ...depth, "--", ...(opts.paths ?? [])], { ...opts, config, cwd: dir });
  try {
    await run(["--depth=1"]);
  } catch (err) {
    if (!(err instanceof GitCommandError)) throw err;
    try {
      await run([]);
    } catch (again) {
      throw gitError(`git source ${opts.describe}: updating submodules`, again, remoteErrorCode);
    }
  }
}

/** Paths (relative to `dir`) of the submodules checked out there, nested ones included. */
export async function submodulePaths(dir: string, opts: Omit<GitCommandOptions, "cwd">): Promise<string[]> {
  const out = await runGit(["submodule", "foreach", "--quiet", "--recursive", `printf '%s\\0' "$displaypath"`], { ...opts, cwd: dir });
  return out.split("\0").filter(Boolean);
}

/** Deletes the `.git` files submodule clones leave in the tree (they point into a .git going away). */
export async function removeSubmoduleGitFiles(dir: string, paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(join(dir, p, ".git"), { recursive: true, force: true })));
}
