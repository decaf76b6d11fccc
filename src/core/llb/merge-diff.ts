import { State } from "./state.ts";
import { Cap } from "./caps.ts";
import { addCaps, type Constraints, type MarshalContext } from "./constraints.ts";
import { constraintsOf, type OpOptions } from "./options.ts";
import { MarshalCache, encodeOp, opBase, simpleOutput, toInput, type MarshalledOp, type Output, type Vertex } from "./vertex.ts";

/** Stacks the filesystems of several states, later ones on top (pb.MergeOp). Scratch inputs add nothing. */
export function merge(states: readonly State[], opts?: OpOptions): State {
  const nonEmpty = states.filter((s) => s.output() !== undefined);
  const [first] = nonEmpty;
  if (!first) return new State();
  if (nonEmpty.length === 1) return first;
  const outputs = nonEmpty.map((s) => s.output()!);
  const vertex = new LayerOp("merge", outputs, addCaps(constraintsOf(opts), Cap.mergeOp));
  // A fresh state, as Go's NewState: no env, dir or user carried over from an input.
  return new State(simpleOutput(vertex));
}

/** The changes that turn lower into upper, as a state of their own (pb.DiffOp). */
export function diff(lower: State, upper: State, opts?: OpOptions): State {
  // Against scratch, the difference is upper itself.
  if (!lower.output()) return upper.output() ? upper : new State();
  const vertex = new LayerOp("diff", [lower.output(), upper.output()], addCaps(constraintsOf(opts), Cap.diffOp));
  return new State(simpleOutput(vertex));
}

/** Merge and diff: ops over whole filesystems, not tied to a platform. */
class LayerOp implements Vertex {
  readonly #kind: "merge" | "diff";
  readonly #inputs: readonly (Output | undefined)[];
  readonly #constraints: Constraints;
  readonly #cache = new MarshalCache();

  constructor(kind: "merge" | "diff", inputs: readonly (Output | undefined)[], constraints: Constraints) {
    this.#kind = kind;
    this.#inputs = inputs;
    this.#constraints = constraints;
  }

  inputs(): readonly Output[] {
    return this.#inputs.filter((o): o is Output => o !== undefined);
  }

  marshal(ctx: MarshalContext): MarshalledOp {
    return this.#cache.get(ctx, () => {
      const { op, ...base } = opBase(ctx, this.#constraints);
      delete op.platform;
      const inputs = this.inputs().map((o) => toInput(o, ctx));
      if (this.#kind === "merge") return encodeOp({ inputs, merge: { inputs: inputs.map((_, i) => ({ input: i })) }, ...op }, base);
      const [lower, upper] = this.#inputs;
      const upperIndex = lower ? 1 : 0;
      return encodeOp({ inputs, diff: { lower: { input: lower ? 0 : -1 }, upper: { input: upper ? upperIndex : -1 } }, ...op }, base);
    });
  }
}
