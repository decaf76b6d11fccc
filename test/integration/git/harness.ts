// Runs the git source adapter as the solver would (contentKey, then exec) on a directory-backed
// worker, and records what it reported.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDefinition } from "../../../src/core/llb/definition.ts";
import { LINUX_AMD64, type State } from "../../../src/core/llb/index.ts";
import type { pb } from "../../../src/core/pb/index.ts";
import type { OpContext } from "../../../src/core/solver/op.ts";
import { gitSource } from "../../../src/core/sources/git/index.ts";
import { dirWorker, type DirWorker } from "./dir-worker.ts";

export interface Run {
  readonly key: string | undefined;
  /** The result's content. */
  readonly dir: string;
  /** What each fetch from a remote asked for. */
  readonly fetches: string[];
  readonly statuses: string[];
  readonly logs: string;
}

/** The SourceOp our client writes for a state made by `git(...)`. */
export function sourceOp(state: State): pb.SourceOp.$Properties {
  const def = loadDefinition(state.marshal({ platform: LINUX_AMD64 }));
  for (const op of def.ops.values()) if (op.op.source) return op.op.source;
  throw new Error("no source op in the definition");
}

export class GitHarness {
  readonly dir = mkdtempSync(join(tmpdir(), "bk-git-it-"));
  readonly srv = join(this.dir, "srv");
  readonly cacheDir = join(this.dir, "git-cache");
  readonly workers: DirWorker = dirWorker(join(this.dir, "snapshots"));

  context(): { ctx: OpContext; statuses: string[]; logs: string[] } {
    const statuses: string[] = [];
    const logs: string[] = [];
    const ctx: OpContext = {
      signal: AbortSignal.timeout(60_000),
      progress: {
        log: (_stream, data) => logs.push(Buffer.from(data).toString()),
        status: (id) => statuses.push(id),
      },
    };
    return { ctx, statuses, logs };
  }

  /** contentKey only (what a cache check costs). */
  async key(op: pb.SourceOp.$Properties, fetches: string[] = []): Promise<string | undefined> {
    const adapter = gitSource(op, { ...this.workers, gitCacheDir: this.cacheDir, onFetch: (_r, what) => fetches.push(what) });
    return adapter.contentKey?.(this.context().ctx);
  }

  /** contentKey then exec, on a fresh adapter (as a new build would). */
  async run(op: pb.SourceOp.$Properties): Promise<Run> {
    const fetches: string[] = [];
    const adapter = gitSource(op, { ...this.workers, gitCacheDir: this.cacheDir, onFetch: (_r, what) => fetches.push(what) });
    const { ctx, statuses, logs } = this.context();
    const key = await adapter.contentKey?.(ctx);
    const [ref] = await adapter.exec([], ctx);
    if (ref === undefined) throw new Error("no result");
    return { key, dir: this.workers.dirOf(ref.id), fetches, statuses, logs: logs.join("") };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
