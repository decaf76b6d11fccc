import { mkdirSync, rmSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { statePath } from "../worker/storage.ts";
import { sha256 } from "../digest.ts";
import type { Mount } from "../worker/mount.ts";

export type CacheSharing = "shared" | "private" | "locked";

/** A cache directory lent to one exec step. */
export interface CacheMountLease {
  readonly mounts: readonly Mount[];
  release(): void;
}

/**
 * Persistent cache mounts (`--mount=type=cache`): plain directories under the state root,
 * keyed by id, kept between builds and never part of results. Sharing as in BuildKit: shared
 * lets writers use one directory together, locked makes a second writer wait for the first,
 * private gives a second writer a directory of its own (thrown away after).
 */
export function createCacheMounts(root: string) {
  const dir = statePath(root, "cacheMounts");
  const busy = new Map<string, number>();
  const waiters = new Map<string, (() => void)[]>();
  const bind = (path: string): Mount[] => [{ type: "bind", source: path, options: ["rbind", "rw"] }];

  const enter = (id: string) => busy.set(id, (busy.get(id) ?? 0) + 1);
  const leave = (id: string) => {
    const n = (busy.get(id) ?? 1) - 1;
    if (n > 0) busy.set(id, n);
    else busy.delete(id);
    waiters.get(id)?.shift()?.();
  };

  return {
    async acquire(id: string, sharing: CacheSharing, signal: AbortSignal): Promise<CacheMountLease> {
      const path = join(dir, sha256(id).slice(7));
      mkdirSync(path, { recursive: true });
      // The directory's time is the cache mount's last use (du and GC read it).
      const now = new Date();
      utimesSync(path, now, now);
      if (sharing === "private" && busy.has(id)) {
        const own = join(dir, "private", `${sha256(id).slice(7, 19)}-${process.pid}-${Math.random().toString(36).slice(2)}`);
        mkdirSync(own, { recursive: true });
        return { mounts: bind(own), release: () => rmSync(own, { recursive: true, force: true }) };
      }
      if (sharing === "locked") {
        while (busy.has(id)) {
          signal.throwIfAborted();
          await new Promise<void>((resolve) => {
            const list = waiters.get(id) ?? [];
            list.push(resolve);
            waiters.set(id, list);
            signal.addEventListener("abort", () => resolve(), { once: true });
          });
        }
      }
      enter(id);
      let released = false;
      return {
        mounts: bind(path),
        release: () => {
          if (released) return;
          released = true;
          leave(id);
        },
      };
    },
  };
}

export type CacheMounts = ReturnType<typeof createCacheMounts>;
