import type { State } from "../../src/core/llb/index.ts";
import type { ExampleOptions } from "./options.ts";

/** A bundled example: a function from flags to the final state of a build graph. */
export interface Example {
  readonly name: string;
  readonly summary: string;
  /** Whether components may come from local sources (--runc=local …). */
  readonly allowsLocal: boolean;
  build(opts: ExampleOptions): State;
}
