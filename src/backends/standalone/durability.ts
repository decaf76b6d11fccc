// Durable at the end of work. Snapshot data and blobs are written without fsync (writable
// overlays are even mounted "volatile": sys/overlay-volatile.ts), so they reach the disk with the
// kernel's writeback. Instead of a sync per step, the worker makes everything durable at once:
// when a build has succeeded (Worker.sync, called by the engine) and when it closes, one
// syncfs(2) of each filesystem holding the state, then one UPDATE marks the snapshots committed
// before that syncfs durable. Nothing written since the last sync (a fully cached build): no
// syncfs at all. Until then a snapshot's record says "not durable" with the boot that wrote it,
// so a machine crash in the window is detected at the next open (snapshotter/unsynced.ts).
//
// Blobs carry no such record (they have no database row to put it in): their commit only makes
// the next sync necessary. A blob a machine crash truncated before that sync keeps its name and
// is not detected, since blobs are not re-hashed when read: a known gap.
import { BuildkitError } from "../../core/errors.ts";
import type { ContentStore, ContentWriter } from "../../core/worker/content-store.ts";
import type { OverlaySnapshotter } from "./snapshotter.ts";
import { distinctFilesystems, syncFilesystemAsync } from "./sys/syncfs.ts";

export interface Durability {
  /** The content store to hand out: it tells this object when a blob is committed. */
  readonly content: ContentStore;
  /** Syncs what was written since the last sync, if anything, and records the snapshots durable. */
  sync(): Promise<void>;
}

export interface DurabilityOptions {
  /** Directories whose filesystems hold the state (root, snapshots, blobs); missing ones are skipped. */
  readonly paths: readonly string[];
  readonly snapshotter: Pick<OverlaySnapshotter, "unsynced" | "markDurable">;
  readonly content: ContentStore;
  /** syncfs(2) of the filesystem holding a path (tests count the calls). */
  readonly syncfs?: (path: string) => void | Promise<void>;
}

export function createDurability(opts: DurabilityOptions): Durability {
  const syncfs = opts.syncfs ?? syncFilesystemAsync;
  let blobsWritten = false;
  return {
    content: notingCommits(opts.content, () => void (blobsWritten = true)),
    async sync() {
      // Taken before the syncfs: a snapshot committed while it runs waits for the next one.
      const ids = opts.snapshotter.unsynced();
      if (ids.length === 0 && !blobsWritten) return;
      blobsWritten = false;
      try {
        for (const path of distinctFilesystems(opts.paths)) await syncfs(path);
      } catch (err) {
        blobsWritten = true;
        throw new BuildkitError("Internal", `syncing the build's results to disk: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      opts.snapshotter.markDurable(ids);
    },
  };
}

/** store, with onCommit called after each blob commit that succeeded. */
function notingCommits(store: ContentStore, onCommit: () => void): ContentStore {
  return {
    info: (digest) => store.info(digest),
    read: (digest, o) => store.read(digest, o),
    delete: (digest) => store.delete(digest),
    list: () => store.list(),
    async writer(o): Promise<ContentWriter> {
      const writer = await store.writer(o);
      return {
        write: (chunk) => writer.write(chunk),
        abort: () => writer.abort(),
        async commit(expected) {
          await writer.commit(expected);
          onCommit();
        },
      };
    },
  };
}
