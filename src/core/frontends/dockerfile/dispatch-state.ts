/** What the converter keeps per stage while it walks the Dockerfile. */
import type { Platform, State } from "../../llb/index.ts";
import type { ArgKV, Command, Stage } from "./instructions.ts";
import type { DockerfileImage } from "./image-config.ts";

export interface DispatchState {
  stage: Stage;
  state: State;
  image: DockerfileImage;
  platform?: Platform;
  base?: DispatchState;
  deps: Set<DispatchState>;
  /** Sources of each command (COPY --from, RUN --mount from=), parallel to stage.commands. */
  sources: (DispatchState | undefined)[][];
  buildArgs: ArgKV[];
  ctxPaths: Set<string>;
  stageName: string;
  cmdIndex: number;
  cmdTotal: number;
  cmdSet: boolean;
  /** A COPY --from / mount from= naming an image rather than a stage. */
  unregistered: boolean;
  resolved: boolean;
  /** SOURCE_DATE_EPOCH (RFC 3339): the time of this stage's history entries. */
  epoch?: string;
}

export function newDispatchState(stage: Stage, unregistered = false): DispatchState {
  return {
    stage,
    state: undefined as unknown as State, // set when the base is resolved
    image: undefined as unknown as DockerfileImage,
    deps: new Set(),
    sources: [],
    buildArgs: [],
    ctxPaths: new Set(),
    stageName: stage.name,
    cmdIndex: 0,
    cmdTotal: 0,
    cmdSet: false,
    unregistered,
    resolved: false,
  };
}

export class DispatchStates {
  readonly states: DispatchState[] = [];
  readonly #byName = new Map<string, DispatchState>();

  add(ds: DispatchState): void {
    this.states.push(ds);
    const base = this.#byName.get(ds.stage.baseName);
    if (base) ds.base = base;
    if (ds.stage.name) this.#byName.set(ds.stage.name.toLowerCase(), ds);
  }
  byName(name: string): DispatchState | undefined {
    return this.#byName.get(name.toLowerCase());
  }
  byIndex(i: number): DispatchState {
    const s = this.states[i];
    if (i < 0 || !s) throw new Error(`invalid stage index ${i}`);
    return s;
  }
}

export function isReachable(from: DispatchState | undefined, to: DispatchState, seen = new Set<DispatchState>()): boolean {
  if (!from || seen.has(from)) return false;
  seen.add(from);
  if (from === to || isReachable(from.base, to, seen)) return true;
  for (const d of from.deps) if (isReachable(d, to, seen)) return true;
  return false;
}

/** `[stage 2/5] ` in front of a step's name (BuildKit's prefixCommand); counts the step. */
export function prefixCommand(ds: DispatchState, str: string): string {
  if (ds.cmdTotal === 0) return str;
  ds.cmdIndex++;
  const width = Math.floor(1 + Math.log10(ds.cmdTotal));
  return `[${ds.stageName ? `${ds.stageName} ` : ""}${String(ds.cmdIndex).padStart(width, " ")}/${ds.cmdTotal}] ${str}`;
}

/** Counts the steps that get a number: FROM an image, ADD, COPY, RUN, WORKDIR. */
export function countSteps(ds: DispatchState): number {
  let total = ds.stage.baseName !== "scratch" && !ds.base ? 1 : 0;
  for (const c of ds.stage.commands) if (isCountedCommand(c)) total++;
  return total;
}

function isCountedCommand(c: Command): boolean {
  return c.kind === "add" || c.kind === "copy" || c.kind === "run" || c.kind === "workdir";
}
