/**
 * The `git://` source: a commit of a repository (by branch, tag, SHA or the default branch),
 * cached by commit, fetched into one bare cache repository per remote, checked out into a
 * snapshot (optionally with its .git, its submodules, or only a subdirectory).
 */
export { gitSource } from "./source.ts";
export type { GitSourceDeps } from "./source.ts";
export { describeSource, isGitTransport, parseGitIdentifier, redactRemote, splitFragment } from "./identifier.ts";
export type { GitIdentifier } from "./identifier.ts";
export { resolveRemoteRef, pickRef, parseLsRemote } from "./resolve.ts";
export type { RemoteRef } from "./resolve.ts";
export { cacheRepoDir, ensureCommit, openBareRepo } from "./fetch.ts";
export type { BareRepo } from "./fetch.ts";
export { checkoutInto } from "./checkout.ts";
export { condenseGitMessage } from "./git-errors.ts";
