import { lstat } from "node:fs/promises";
import { BuildkitError } from "../../errors.ts";
import type { pb } from "../../pb/index.ts";
import type { OpAdapter, OpContext } from "../../solver/op.ts";
import { buildSnapshot, withView } from "../../worker/snapshots.ts";
import type { BuildSession } from "../../session/session.ts";
import type { SourceDeps } from "../source.ts";
import { checksumTree } from "./checksum.ts";
import type { FileHash } from "./checksum.ts";
import { copyTree } from "./copy-tree.ts";
import type { CopyResult, PreviousCopy } from "./copy-tree.ts";
import type { StatCache } from "./stat-cache.ts";
import type { WalkOptions } from "./walk.ts";
import type { WalkRecords } from "./walk-records.ts";

/** Where local sources come from: the client's session, and the stat cache that makes re-checks cheap. */
export interface LocalSourceDeps extends SourceDeps {
  readonly session: BuildSession;
  readonly statCache: StatCache;
}

/**
 * `local://NAME`: a client directory. Its cache key is the content digest of the filtered
 * tree (a stat cache spares re-reading unchanged files), so a step over an unchanged
 * directory is cached across processes; running it copies the tree into a new snapshot,
 * linking the files that did not change from the snapshot last made for the same directory.
 */
export function localSource(op: pb.SourceOp.$Properties, deps: LocalSourceDeps): OpAdapter {
  const name = (op.identifier ?? "").slice("local://".length);
  const attrs = op.attrs ?? {};
  const walk: WalkOptions = {
    include: jsonList(attrs["local.includepattern"], name),
    exclude: jsonList(attrs["local.excludepatterns"], name),
    followPaths: jsonList(attrs["local.followpaths"], name),
  };
  const request = { include: walk.include, exclude: walk.exclude, followPaths: walk.followPaths, sharedKeyHint: attrs["local.sharedkeyhint"] || undefined };
  // One transfer per build: the key and the copy read the same directory.
  let dir: Promise<string> | undefined;
  /** The checksum's walk, handed to the copy (its entries are made only if a copy runs). */
  let walked: WalkRecords | undefined;
  /** The snapshot the checksum's files were copied into while it read them (see contentKey). */
  let early: Copied | undefined;
  const root = (ctx: OpContext): Promise<string> =>
    (dir ??= deps.session.localDir(name, { ...request, signal: ctx.signal, onProgress: (bytes, done) => ctx.progress.status(`transferring ${name}:`, bytes, undefined, done) }).then((found) => {
      if (found === undefined) throw new BuildkitError("NotFound", `local source "${name}": no directory given (pass --local ${name}=PATH)`);
      return found;
    }));
  const sharedKey = (from: string) => `${request.sharedKeyHint ?? name}\0${from}`;
  /** A new snapshot of the tree; unchanged files hard-linked from the last copy when there is one. */
  const snapshotOf = async (ctx: OpContext, from: string, records: WalkRecords | undefined, hash: boolean): Promise<Copied> => {
    const key = sharedKey(from);
    const last = deps.statCache.lastCopy(key);
    let copied: CopyResult | undefined;
    let destBytes = 0;
    const copy = async (dest: string, previous?: PreviousCopy) => {
      copied = await copyTree(from, dest, { ...walk, name, signal: ctx.signal, walked: records, previous, hash });
      ctx.progress.status(`copying ${name}`, copied.bytes, copied.bytes, true);
    };
    // Unchanged files are hard-linked from the last copy: both snapshots reached directly.
    const snapshot = await buildSnapshot(
      deps.worker,
      undefined,
      async (dest) => {
        if (last === undefined || (await deps.worker.snapshotter.stat(last.snapshot)) === undefined) await copy(dest);
        else await withView(deps.worker, last.snapshot, (dir) => copy(dest, { dir, records: last.records }), { direct: true });
        destBytes = Number((await lstat(dest, { bigint: true })).blocks) * 512;
      },
      { direct: true },
    );
    if (copied) deps.statCache.setLastCopy(key, snapshot, copied.records);
    // The snapshot holds exactly what the copy made: its size needs no walk.
    return { snapshot, size: copied && destBytes + copied.allocated, hashes: copied?.hashes };
  };
  return {
    // Provenance lists the client directories a build read (build information leaves them out).
    provenance: async () => ({ type: "local", name }),
    async contentKey(ctx) {
      const from = await root(ctx);
      // With no earlier copy to link from, the copy reads every file: copied while the checksum
      // needs their contents, they are hashed on the way and read once. (Should the key then hit
      // the cache, the snapshot stays as the directory's last copy, for the next one to link.)
      // (Asked only when the tree stamp does not give the digest: an unchanged tree reads nothing.)
      const prehash = async (records: WalkRecords): Promise<ReadonlyMap<string, FileHash>> => {
        // (Only whether there is one: its records are decoded by the copy, once.)
        const last = deps.statCache.lastCopySnapshot(sharedKey(from));
        if (last !== undefined && (await deps.worker.snapshotter.stat(last)) !== undefined) return new Map();
        early = await snapshotOf(ctx, from, records, true);
        return early.hashes ?? new Map();
      };
      const sum = await checksumTree(from, { ...walk, cache: deps.statCache, name, signal: ctx.signal, walked: (records) => (walked = records), prehash });
      ctx.progress.status(`checksum ${name}`, sum.bytes, sum.bytes, true);
      return sum.digest;
    },
    async exec(_inputs, ctx) {
      const made = early ?? (await snapshotOf(ctx, await root(ctx), walked, false));
      early = undefined;
      return [deps.refs.ref(made.snapshot, made.size)];
    },
  };
}

/** A local source's new snapshot, its size when counted while copying, and the hashes made on the way. */
interface Copied {
  readonly snapshot: string;
  readonly size: number | undefined;
  readonly hashes: ReadonlyMap<string, FileHash> | undefined;
}

function jsonList(value: string | undefined, name: string): string[] | undefined {
  if (!value) return undefined;
  try {
    const list: unknown = JSON.parse(value);
    if (Array.isArray(list) && list.every((x) => typeof x === "string")) return list;
  } catch {
    // fall through to the error below
  }
  throw new BuildkitError("InvalidArgument", `local source "${name}": patterns must be a JSON list of strings, not ${value}`);
}
