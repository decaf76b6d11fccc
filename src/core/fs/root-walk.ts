// The one walk behind in-root path resolution (safe-path.ts, async, for file ops; the executor's
// scoped-path.ts, sync, for a rootfs): components are taken one by one, symlinks are followed
// with the root as `/`, `..` never climbs above the root (an attempt is reported as escaped).
// The walk is a generator that yields each candidate's root-relative parts and is sent back its
// link target (undefined: not a symlink), so sync and async callers share it.

/** Symlinks followed while resolving one path before giving up (continuity and securejoin's limit). */
export const MAX_SYMLINKS = 255;

export interface RootWalk {
  readonly parts: readonly string[];
  /** True when a `..` (written or from a symlink) tried to leave the root. */
  readonly escaped: boolean;
}

export type RootWalker = Generator<readonly string[], RootWalk, string | undefined>;

/** The components of a path, without empty and "." ones. */
export function components(p: string): string[] {
  return p.split("/").filter((c) => c !== "" && c !== ".");
}

/** Walks `parts`; throws tooManyLinks() past MAX_SYMLINKS; the final link is followed unless followFinal is false. */
export function* walkInRoot(parts: readonly string[], opts: { followFinal: boolean; tooManyLinks: () => Error }): RootWalker {
  const pending = [...parts];
  const resolved: string[] = [];
  let escaped = false;
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === "..") {
      if (resolved.length === 0) escaped = true;
      resolved.pop();
      continue;
    }
    const target = pending.length === 0 && !opts.followFinal ? undefined : yield [...resolved, part];
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw opts.tooManyLinks();
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...components(target));
  }
  return { parts: resolved, escaped };
}

export function runWalkSync(walk: RootWalker, linkTarget: (parts: readonly string[]) => string | undefined): RootWalk {
  let step = walk.next();
  while (!step.done) step = walk.next(linkTarget(step.value));
  return step.value;
}

export async function runWalk(walk: RootWalker, linkTarget: (parts: readonly string[]) => Promise<string | undefined>): Promise<RootWalk> {
  let step = walk.next();
  while (!step.done) step = walk.next(await linkTarget(step.value));
  return step.value;
}
