/**
 * What a ref names on the remote, found with `git ls-remote` (no objects are fetched), as
 * BuildKit does it: a full commit SHA is taken as it is; an empty ref is the remote's HEAD
 * (its default branch); otherwise `refs/REF` wins over `refs/heads/REF` over `refs/tags/REF`
 * (an annotated tag gives the commit it points to). A ref the remote does not have but that
 * looks like an abbreviated SHA is left for the fetch to expand.
 */
import { BuildkitError } from "../../errors.ts";
import { runGit, type GitCommandOptions } from "./git-command.ts";
import { gitError, remoteErrorCode } from "./git-errors.ts";

export type RemoteRef =
  /** A full commit SHA given as the ref. */
  | { readonly kind: "commit"; readonly commit: string }
  /** A ref the remote has: `refs/heads/x`, `refs/tags/v1`, `HEAD` (when it is not a branch). */
  | { readonly kind: "named"; readonly name: string; readonly commit: string }
  /** An abbreviated SHA: which commit it is is known only once the repository is fetched. */
  | { readonly kind: "abbrev"; readonly prefix: string };

export function isFullCommitSHA(ref: string): boolean {
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(ref);
}

export function isAbbrevSHA(ref: string): boolean {
  return /^[0-9a-f]{4,63}$/.test(ref);
}

interface LsRemoteLine {
  readonly sha: string;
  readonly name: string;
}

/** `SHA\tNAME` lines; `ref: TARGET\tNAME` lines (from --symref) come back as { sha: "ref: TARGET" }. */
export function parseLsRemote(out: string): LsRemoteLine[] {
  const lines: LsRemoteLine[] = [];
  for (const line of out.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab > 0) lines.push({ sha: line.slice(0, tab).trim(), name: line.slice(tab + 1).trim() });
  }
  return lines;
}

/** Picks the line a ref means, in BuildKit's order of preference; undefined when none does. */
export function pickRef(ref: string, lines: readonly LsRemoteLine[]): { name: string; commit: string } | undefined {
  const bare = ref.replace(/^refs\//, "");
  const exact = ref.startsWith("refs/") ? ref : `refs/${bare}`;
  const head = `refs/heads/${bare.replace(/^heads\//, "")}`;
  const tag = `refs/tags/${bare.replace(/^tags\//, "")}`;
  const find = (name: string) => lines.find((l) => l.name === name);
  const byExact = find(ref) ?? find(exact);
  // An annotated tag's own line names the tag object; its `^{}` line names the commit.
  if (byExact) return { name: byExact.name, commit: (find(`${byExact.name}^{}`) ?? byExact).sha };
  const byHead = find(head);
  if (byHead) return { name: head, commit: byHead.sha };
  const byTag = find(`${tag}^{}`) ?? find(tag);
  return byTag ? { name: tag, commit: byTag.sha } : undefined;
}

export interface ResolveOptions extends GitCommandOptions {
  /** How the source is named in errors (`REMOTE#REF`). */
  readonly describe: string;
}

/** What `ref` names on `remote` now. */
export async function resolveRemoteRef(remote: string, ref: string, opts: ResolveOptions): Promise<RemoteRef> {
  if (isFullCommitSHA(ref)) return { kind: "commit", commit: ref };
  const lines = await lsRemote(ref === "" ? ["--symref", remote, "HEAD"] : [remote, ref, `${ref}^{}`], opts);
  if (ref === "") return defaultBranch(lines, opts.describe);
  const picked = pickRef(ref, lines);
  if (picked) return { kind: "named", ...picked };
  if (isAbbrevSHA(ref)) return { kind: "abbrev", prefix: ref };
  throw new BuildkitError("NotFound", `git source ${opts.describe}: ref "${ref}" not found in remote`);
}

function defaultBranch(lines: readonly LsRemoteLine[], describe: string): RemoteRef {
  const head = lines.find((l) => l.name === "HEAD" && !l.sha.startsWith("ref:"));
  if (!head) throw new BuildkitError("NotFound", `git source ${describe}: remote has no HEAD (is it empty?)`);
  const symref = lines.find((l) => l.name === "HEAD" && l.sha.startsWith("ref:"));
  const target = symref?.sha.slice("ref:".length).trim();
  return { kind: "named", name: target || "HEAD", commit: head.sha };
}

async function lsRemote(args: readonly string[], opts: ResolveOptions): Promise<LsRemoteLine[]> {
  try {
    return parseLsRemote(await runGit(["ls-remote", ...args], opts));
  } catch (err) {
    throw gitError(`git source ${opts.describe}`, err, remoteErrorCode);
  }
}
