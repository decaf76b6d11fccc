// Long snapshot chains and overlayfs's stacking limits. The kernel refuses an overlay of more
// than 500 lower dirs (OVL_MAX_STACK) and mount(2) takes one page of options (see
// sys/mount.ts), so a chain of 1,000 steps cannot be one overlay. Past MAX_LOWERS layers, the
// part of a chain below a cut point is replaced by a flattened copy of it: the merged view of
// those layers copied into `<id>/flat` of the snapshot at the cut. Committed snapshots never
// change, so a flattened copy stays valid until its snapshot is removed (it lives in the
// snapshot's directory and goes with it). Cut points sit at fixed depths from the base of the
// chain (multiples of STEP), so the next step of a growing chain reuses the same copies.
// A copy is synced to disk before it is renamed into place: it is used whenever it exists, and
// no record says whether it is durable (see ../durability.ts), so after a machine crash it is
// either whole or absent (and made again). Copies are rare (one per STEP layers past MAX_LOWERS)
// and cost a whole-tree copy, against which one syncfs is small.
import { spawn } from "bun";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { BuildkitError } from "../../../core/errors.ts";
import type { Mount } from "../../../core/worker/mount.ts";
import { withMounted } from "../sys/mount.ts";
import { syncFilesystem } from "../sys/syncfs.ts";

/** overlayfs's own limit on lower dirs (OVL_MAX_STACK in the kernel). */
export const OVERLAY_MAX_STACK = 500;
/** Chains longer than this are flattened; far enough below the kernel's limits to mount always. */
export const MAX_LOWERS = 128;

export interface FlattenOptions {
  /** A snapshot id's own content directory. */
  readonly fs: (id: number) => string;
  /** A snapshot id's directory (where its flattened copy lives). */
  readonly dir: (id: number) => string;
  /** Where temporary mount points are made. */
  readonly mountRoot: string;
  readonly maxLowers?: number;
  /** syncfs(2) of the filesystem holding a path (default: the real one). */
  readonly syncfs?: (path: string) => void;
}

export class Flattener {
  readonly #opts: FlattenOptions;
  readonly #max: number;
  readonly #step: number;
  /** Copies being made, by snapshot id: two steps needing the same one share the work. */
  readonly #inflight = new Map<number, Promise<string>>();

  constructor(opts: FlattenOptions) {
    this.#opts = opts;
    this.#max = Math.max(2, opts.maxLowers ?? MAX_LOWERS);
    this.#step = Math.floor(this.#max / 2);
  }

  /**
   * The lower dirs (nearest first) that stand for a chain of committed snapshot ids, nearest
   * first down to the base: the ids' own dirs when there are at most maxLowers of them.
   */
  async lowerDirs(chain: readonly number[]): Promise<string[]> {
    if (chain.length <= this.#max) return chain.map(this.#opts.fs);
    // chain[cut] is the nearest snapshot whose depth from the base (chain.length - cut) is a multiple of step.
    const cut = chain.length % this.#step;
    return [...chain.slice(0, cut).map(this.#opts.fs), await this.#flattened(chain.slice(cut))];
  }

  /** The flattened copy of chain (whose length is a multiple of step), made on first use. */
  #flattened(chain: readonly number[]): Promise<string> {
    const id = chain[0] as number;
    const dir = join(this.#opts.dir(id), "flat");
    if (existsSync(dir)) return Promise.resolve(dir);
    let p = this.#inflight.get(id);
    if (!p) {
      p = this.#materialize(chain, dir).finally(() => this.#inflight.delete(id));
      this.#inflight.set(id, p);
    }
    return p;
  }

  async #materialize(chain: readonly number[], dir: string): Promise<string> {
    const layers = chain.length <= this.#max ? chain.map(this.#opts.fs) : [...chain.slice(0, this.#step).map(this.#opts.fs), await this.#flattened(chain.slice(this.#step))];
    const temp = `${dir}.tmp`;
    await mkdir(this.#opts.mountRoot, { recursive: true });
    await rm(temp, { recursive: true, force: true });
    await mkdir(temp, { mode: 0o755 });
    try {
      await withMounted(viewOf(layers), (merged) => copyTree(merged, temp), { parent: this.#opts.mountRoot });
      (this.#opts.syncfs ?? syncFilesystem)(temp);
      await rename(temp, dir);
    } catch (err) {
      await rm(temp, { recursive: true, force: true });
      const msg = err instanceof Error ? err.message : String(err);
      throw new BuildkitError("Internal", `flattening ${chain.length} layers (overlayfs stacks at most ${OVERLAY_MAX_STACK}): ${msg}`, { cause: err });
    }
    return dir;
  }
}

/** A read-only view of lower dirs (nearest first). */
export function viewOf(lowers: readonly string[]): Mount[] {
  // overlay needs two lower dirs when it has no upper dir; one is a read-only bind.
  if (lowers.length === 1) return [{ type: "bind", source: lowers[0] as string, options: ["rbind", "ro"] }];
  return [{ type: "overlay", source: "overlay", options: [`lowerdir=${lowers.join(":")}`] }];
}

/** `cp -a src/. dest`: modes, owners, times, xattrs, links and special files, in one process. */
async function copyTree(src: string, dest: string): Promise<void> {
  const p = spawn(["cp", "-a", "--no-target-directory", `${src}/.`, dest], { stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`cp: ${(await new Response(p.stderr).text()).trim()}`);
}
