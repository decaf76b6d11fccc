import { lstat } from "node:fs/promises";
import { applyFileAction } from "../../fs/file-actions.ts";
import type { pb } from "../../pb/index.ts";
import type { SnapshotRefs } from "../../cache/refs.ts";
import type { Worker } from "../../worker/worker.ts";
import type { OpAdapter, ResultRef } from "../op.ts";
import { access, commitMutable, discard, prepareMutable, withView, type Mutable } from "../../worker/snapshots.ts";
import { copiesWholeTree, sameRootAttributes } from "../../fs/whole-copy.ts";

/**
 * An action's result while the op runs: still writable, or committed (when shared or an output).
 * `size`: its allocated bytes, known when a copy onto an empty base counted what it made.
 */
type Step = { mut?: Mutable; committed?: string; size?: number };

/**
 * Runs a FileOp's actions in order. An action works on a writable snapshot of its base (an
 * input, an earlier action's result, or empty); a result that only the next action reads is
 * handed on without committing, as BuildKit does, so a chain of actions costs one snapshot.
 *
 * A copy of a whole committed single-layer snapshot onto an empty base ("/" to "/", nothing
 * overridden or filtered, see fs/whole-copy.ts) whose root the empty base's root matches would
 * reproduce it exactly: its result is that snapshot itself, held a second time (committed
 * snapshots never change; later steps mount it read-only or copy it up). Its layer is the same
 * diff against nothing; the cache index then has one record for both results (the scheduler
 * keeps a result from being its own parent), counted once by du and pruned with both keys.
 */
export function fileAdapter(op: pb.FileOp.$Properties, deps: { worker: Worker; refs: SnapshotRefs }): OpAdapter {
  const { worker } = deps;
  return {
    async exec(inputs, ctx) {
      const actions = op.actions ?? [];
      const n = inputs.length;
      const uses = countUses(actions, n);
      const handedOn = handedOnInPlace(actions, n, uses);
      const steps: Step[] = [];
      const outputs: string[] = [];
      const sizes: (number | undefined)[] = [];
      const commit = async (j: number): Promise<string> => {
        const s = steps[j]!;
        if (s.committed === undefined) {
          s.committed = await commitMutable(worker, s.mut!);
          s.mut = undefined;
        }
        return s.committed;
      };
      const refName = async (idx: number): Promise<string | undefined> => (idx >= n ? commit(idx - n) : idx >= 0 ? inputs[idx]!.id : undefined);
      try {
        for (const [i, a] of actions.entries()) {
          ctx.signal.throwIfAborted();
          const base = a.input ?? 0;
          const secondary = a.secondaryInput ?? -1;
          let mut: Mutable;
          const prev = base >= n ? steps[base - n] : undefined;
          if (prev?.mut && handedOn[base - n] === i) {
            mut = prev.mut;
            prev.mut = undefined;
          } else {
            mut = await prepareMutable(worker, await refName(base));
          }
          steps[i] = { mut };
          const secondaryName = a.copy ? await refName(secondary) : undefined;
          // A result no later action writes in place may hold hard links to its source's files
          // (link(2) needs both sides reached directly, without a mount between). Every action
          // reaches its snapshots directly where one is a plain directory (a lone bind): a bind
          // mount and its unmount per action and side cost ~1 ms each for nothing.
          const linkable = a.copy !== undefined && a.copy !== null && handedOn[i] === undefined;
          // On an empty base the snapshot holds only what the copy made: its size needs no walk.
          let allocated: number | undefined;
          const counting = base === -1 ? { onAllocated: (bytes: number) => void (allocated = bytes) } : {};
          // A copy that would reproduce its (single-layer) source exactly is the source itself.
          const whole = linkable && base === -1 && secondaryName !== undefined && copiesWholeTree(a.copy!) && (await worker.snapshotter.stat(secondaryName))?.parent === undefined;
          let reused = false;
          await access(worker, { direct: true })(mut.mounts, async (dir) => {
            if (a.copy) {
              await withView(
                worker,
                secondaryName,
                async (src) => {
                  if (whole && sameRootAttributes(src, dir)) reused = true;
                  else await applyFileAction(a, { base: dir, secondary: src, linkable }, counting);
                },
                { direct: true },
              );
            } else await applyFileAction(a, { base: dir });
            // What the copy counted, and the snapshot's root.
            if (allocated !== undefined) steps[i]!.size = allocated + Number((await lstat(dir, { bigint: true })).blocks) * 512;
          });
          if (reused) {
            // A second hold on a committed (immutable) snapshot; its size is already recorded.
            await discard(worker, [mut.key]);
            steps[i] = { committed: secondaryName };
          }
          if ((a.output ?? -1) >= 0) {
            outputs[a.output ?? 0] = await commit(i);
            sizes[a.output ?? 0] = steps[i]!.size;
          }
        }
        return outputs.map((name, o) => deps.refs.ref(name, sizes[o])) as ResultRef[];
      } finally {
        await discard(worker, steps.flatMap((s) => (s.mut ? [s.mut.key] : [])));
      }
    },
  };
}

/** For each action, the later action that takes its writable result over in place, if any. */
function handedOnInPlace(actions: readonly pb.FileAction.$Properties[], inputs: number, uses: readonly number[]): (number | undefined)[] {
  const to: (number | undefined)[] = actions.map(() => undefined);
  for (const [j, a] of actions.entries()) {
    const base = a.input ?? 0;
    const i = base - inputs;
    if (i >= 0 && uses[i] === 1 && (actions[i]!.output ?? 0) < 0 && (a.secondaryInput ?? -1) !== base) to[i] = j;
  }
  return to;
}

/** How many later actions read each action's result. */
function countUses(actions: readonly pb.FileAction.$Properties[], inputs: number): number[] {
  const uses = actions.map(() => 0);
  for (const a of actions) {
    for (const idx of [a.input ?? 0, a.secondaryInput ?? -1]) if (idx >= inputs) uses[idx - inputs] = (uses[idx - inputs] ?? 0) + 1;
  }
  return uses;
}
