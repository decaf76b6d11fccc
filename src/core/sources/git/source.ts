import type { pb } from "../../pb/index.ts";
import type { OpAdapter, OpContext } from "../../solver/op.ts";
import { buildSnapshot } from "../../worker/snapshots.ts";
import type { SourceDeps } from "../source.ts";
import type { BuildSession } from "../../session/session.ts";
import { checkoutInto } from "./checkout.ts";
import { ensureCommit, openBareRepo, type BareRepo } from "./fetch.ts";
import { gitAuthConfig } from "./auth.ts";
import { gitError } from "./git-errors.ts";
import { describeSource, parseGitIdentifier, redactRemote, type GitIdentifier } from "./identifier.ts";
import { resolveRemoteRef, type RemoteRef } from "./resolve.ts";

export interface GitSourceDeps extends SourceDeps {
  /** Build secrets, for the remote's auth header (see auth.ts). */
  readonly session?: BuildSession;
  /** Where the bare cache repositories live (one per remote). */
  readonly gitCacheDir: string;
  /** Told of every fetch from a remote (tests count them). */
  readonly onFetch?: (remote: string, what: string) => void;
}

/** A resolved source: the commit, and the ref it was found by. */
interface Pinned {
  readonly repo: BareRepo;
  readonly commit: string;
  /** What to fetch when the commit is not in the cache yet. */
  readonly want: RemoteRef;
  /** The full name of the ref (`refs/heads/main`), when the ref was one. */
  readonly refName?: string;
}

/**
 * `git://REMOTE#REF:SUBDIR`: a commit of a repository, as BuildKit's git source. The cache key
 * is the commit the ref names now (`git ls-remote`; a full SHA needs no look-up), so a build
 * whose ref has not moved is a cache hit without fetching anything, and a moved branch is a
 * new key. Running it fetches the commit into a bare cache repository only when missing there,
 * then checks it out into a new snapshot (see checkout.ts). The commit found for the key is the
 * one checked out, even if the branch moves in between.
 *
 * Auth: an Authorization header from the secrets `git.authheadersecret`/`git.authtokensecret`
 * name (auth.ts), and git's own mechanisms (credential helpers, ~/.git-credentials,
 * GIT_ASKPASS, ssh config and agent). `git.knownsshhosts` and `git.mountsshsock` are parsed but
 * not wired to ssh forwarding yet.
 */
export function gitSource(op: pb.SourceOp.$Properties, deps: GitSourceDeps): OpAdapter {
  const id = parseGitIdentifier(op.identifier ?? "", op.attrs ?? {});
  const describe = describeSource(id);
  let auth: Promise<string[]> | undefined;
  const authConfig = () => (auth ??= gitAuthConfig(id, async (name) => deps.session?.secret(name)));
  let pinned: Promise<Pinned> | undefined;
  const pin = (ctx: OpContext): Promise<Pinned> => {
    pinned ??= authConfig().then((config) => resolve(id, describe, deps, ctx, config));
    pinned.catch(() => (pinned = undefined)); // a failure is not remembered: a retry asks again
    return pinned;
  };
  return {
    async contentKey(ctx) {
      const { commit } = await pin(ctx);
      return `${commit}${id.keepGitDir && !id.subdir ? ".git" : ""}${id.subdir ? `:${id.subdir}` : ""}`;
    },
    // BuildKit v0.11.6's key (gitsource.go shaToCacheKey): the commit, ".git" when the .git
    // directory is kept (with a subdir too), then ":SUBDIR"; so caches travel both ways.
    async remoteKeys(ctx) {
      const { commit } = await pin(ctx);
      return [`${commit}${id.keepGitDir ? ".git" : ""}${id.subdir ? `:${id.subdir}` : ""}`];
    },
    async provenance(ctx) {
      const { commit } = await pin(ctx);
      return { type: "git", url: id.ref ? `${id.remote}#${id.ref}` : id.remote, commit };
    },
    async exec(_inputs, ctx) {
      const p = await pin(ctx);
      const config = await authConfig();
      const commit = await ensure(p.repo, p.want, describe, deps, ctx, config);
      const opts = { ...gitOpts(ctx, config), repo: p.repo, commit, subdir: id.subdir, keepGitDir: id.keepGitDir, describe };
      const snapshot = await buildSnapshot(deps.worker, undefined, (dest) => checkoutInto(dest, p.refName ? { ...opts, refName: p.refName } : opts));
      ctx.progress.status(`checkout ${describe}`, 1, 1, true);
      return [deps.refs.ref(snapshot)];
    },
  };
}

async function resolve(id: GitIdentifier, describe: string, deps: GitSourceDeps, ctx: OpContext, config: readonly string[]): Promise<Pinned> {
  const repo = await openBareRepo(deps.gitCacheDir, id.remote, gitOpts(ctx)).catch((err: unknown) => {
    throw gitError(`git source ${describe}: creating cache repository`, err);
  });
  const status = `resolving ${describe}`;
  ctx.progress.status(status, 0);
  const ref = await resolveRemoteRef(id.remote, id.ref, { ...gitOpts(ctx, config), cwd: repo.dir, describe });
  ctx.progress.status(status, 1, 1, true);
  switch (ref.kind) {
    case "commit":
      return { repo, commit: ref.commit, want: ref };
    case "named":
      return { repo, commit: ref.commit, want: ref, ...(ref.name.startsWith("refs/") ? { refName: ref.name } : {}) };
    case "abbrev": {
      // Only the repository's objects say which commit an abbreviation is: fetch them now.
      const commit = await ensure(repo, ref, describe, deps, ctx, config);
      return { repo, commit, want: { kind: "commit", commit } };
    }
    default: {
      const never: never = ref;
      throw new Error(`unknown ref kind ${String(never)}`);
    }
  }
}

async function ensure(repo: BareRepo, want: RemoteRef, describe: string, deps: GitSourceDeps, ctx: OpContext, config: readonly string[]): Promise<string> {
  const status = `fetching ${redactRemote(repo.remote)}`;
  let fetched = false;
  const commit = await ensureCommit(repo, want, {
    ...gitOpts(ctx, config),
    describe,
    onFetch: (what) => {
      fetched = true;
      ctx.progress.status(status, 0);
      deps.onFetch?.(repo.remote, what);
    },
  });
  if (fetched) ctx.progress.status(status, 1, 1, true);
  return commit;
}

function gitOpts(ctx: OpContext, config: readonly string[] = []): { signal: AbortSignal; onStderr: (chunk: Uint8Array) => void; config: readonly string[] } {
  return { signal: ctx.signal, onStderr: (chunk) => ctx.progress.log(2, chunk), config };
}
