import { findDeletions, writeTreeDiff } from "../../fs/tree-diff.ts";
import type { pb } from "../../pb/index.ts";
import type { SnapshotRefs } from "../../cache/refs.ts";
import type { Worker } from "../../worker/worker.ts";
import { BuildkitError } from "../../errors.ts";
import type { OpAdapter } from "../op.ts";
import { buildSnapshot, newId, withView } from "../../worker/snapshots.ts";
import { commitDeletionCarrier, deletionsOf, hidePlaceholders, removeBelow } from "../../worker/deletion-carrier.ts";
import { removeTypeConflicts } from "../../fs/type-conflicts.ts";

interface Deps {
  readonly worker: Worker;
  readonly refs: SnapshotRefs;
}

/** Inputs copied by one `cp`: few processes, and argv stays far below ARG_MAX. */
const MERGE_BATCH = 64;

/**
 * MergeOp: the inputs' filesystems stacked, later ones on top, as BuildKit applies them: a
 * later input's entry replaces what is at its path (a file over a directory, a directory over
 * a file; directories over directories merge), and an input that is a diff first deletes what
 * its diff deleted (worker/deletion-carrier.ts). The first input is the parent of the new
 * snapshot (no copy); the others are copied over it, a batch of them mounted at once and
 * copied by one process, so the cost follows the files, not the number of inputs. A batch ends
 * before a diff with deletions; a batch that meets a type conflict is copied again input by
 * input, each after the conflicting paths are removed.
 */
export function mergeAdapter(op: pb.MergeOp.$Properties, deps: Deps): OpAdapter {
  return {
    async exec(inputs, ctx) {
      const order = (op.inputs ?? []).map((m) => inputs[m.input ?? 0]!);
      const [first, ...rest] = order;
      const deletions = await Promise.all(rest.map((ref) => deletionsOf(deps.worker, ref.id)));
      const name = await buildSnapshot(deps.worker, first?.id, async (dir) => {
        for (let i = 0; i < rest.length; ) {
          ctx.signal.throwIfAborted();
          for (const rel of deletions[i] ?? []) removeBelow(dir, rel);
          let end = i + 1;
          while (end < rest.length && end - i < MERGE_BATCH && deletions[end] === undefined) end++;
          const batch = rest.slice(i, end).map((ref) => ref.id);
          await withViews(deps.worker, batch, (srcs) => copyOver(srcs, dir));
          i = end;
        }
      });
      return [deps.refs.ref(name)];
    },
  };
}

/** Runs fn with read-only views of several snapshots mounted at once, in order. */
async function withViews<T>(worker: Worker, names: readonly string[], fn: (dirs: string[]) => Promise<T>, dirs: string[] = []): Promise<T> {
  const [name, ...rest] = names;
  if (name === undefined) return fn(dirs);
  const key = newId("view");
  const mounts = await worker.snapshotter.view(key, name);
  try {
    const next = (dir: string) => withViews(worker, rest, fn, [...dirs, dir]);
    // A one-layer view is a read-only bind of a directory: cp reads that directory directly.
    const [only] = mounts;
    if (mounts.length === 1 && only?.type === "bind") return await next(only.source);
    return await worker.withMounted(mounts, next);
  } finally {
    await worker.snapshotter.remove(key);
  }
}

/**
 * DiffOp: what upper adds or changes on top of lower, as a filesystem of its own. Its
 * deletions go into a carrier snapshot below it (worker/deletion-carrier.ts), found only when
 * there are some: both trees are compared once for them, then again as the diff is written.
 */
export function diffAdapter(op: pb.DiffOp.$Properties, deps: Deps): OpAdapter {
  return {
    async exec(inputs, ctx) {
      const pick = (idx: number | null | undefined) => ((idx ?? -1) >= 0 ? inputs[idx ?? 0]?.id : undefined);
      const lower = pick(op.lower?.input);
      const upper = pick(op.upper?.input);
      const name = await withView(deps.worker, lower, (l) =>
        withView(deps.worker, upper, async (u) => {
          const deleted = findDeletions(l, u);
          const carrier = deleted.length > 0 ? await commitDeletionCarrier(deps.worker, deleted) : undefined;
          return buildSnapshot(deps.worker, carrier, async (out) => {
            await writeTreeDiff(l, u, out, { signal: ctx.signal, deleted, beforeWrite: () => hidePlaceholders(out, deleted) });
          });
        }),
      );
      return [deps.refs.ref(name)];
    },
  };
}

/**
 * `cp -a src1/. src2/. … dest/`: each source's contents in turn (later ones win), keeping
 * modes, owners, times, links and special files. `--remove-destination` replaces what is at a
 * path rather than writing into it: through a symlink an earlier input left there (which could
 * point out of the tree) or into a file hard-linked elsewhere. cp cannot put a directory where
 * a non-directory is, or the other way round: when it reports that, the batch is copied again
 * one input at a time, each after removing what it would replace with another type.
 */
async function copyOver(srcs: readonly string[], dest: string): Promise<void> {
  const first = await cp(srcs, dest);
  if (first === undefined) return;
  if (!isTypeConflict(first)) throw mergeError(srcs.length, first);
  for (const src of srcs) {
    removeTypeConflicts(src, dest);
    const again = await cp([src], dest);
    if (again !== undefined) throw mergeError(srcs.length, again);
  }
}

/** cp's complaint, or undefined when it succeeded. */
async function cp(srcs: readonly string[], dest: string): Promise<string | undefined> {
  const p = Bun.spawn(["cp", "-a", "--remove-destination", ...srcs.map((s) => `${s}/.`), `${dest}/`], { stderr: "pipe" });
  const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  return code === 0 ? undefined : stderr.trim();
}

/** Every line is GNU cp's "cannot overwrite directory with non-directory" or the reverse. */
function isTypeConflict(stderr: string): boolean {
  return stderr.split("\n").every((line) => /cannot overwrite (non-)?directory .* with (non-)?directory/.test(line));
}

const mergeError = (n: number, stderr: string) => new BuildkitError("Internal", `merging ${n} inputs: ${stderr}`);
