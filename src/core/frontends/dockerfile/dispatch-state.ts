/** What the converter keeps per stage while it walks the Dockerfile. */
import type { Platform, SourceRange, State } from "../../llb/index.ts";
import { formatPlatform, normalizePlatform, parsePlatform } from "../../llb/platform.ts";
import type { ArgKV, Command, Stage } from "./instructions.ts";
import type { DockerfileImage } from "./image-config.ts";
import { lineRanges } from "./source-location.ts";

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
  /** A multi-platform build names every step after its platform (ConvertOpt.PrefixPlatform): this stage's. */
  namePlatform?: Platform;
  /** A named context stands for this stage: it is that context's state, its instructions unused. */
  noinit?: boolean;
  /**
   * Where its FROM is (Go's stage.Location): the FROM's lines; for an image named by COPY --from,
   * the COPY's; by RUN --mount from=, none (an empty list).
   */
  location: readonly SourceRange[];
}

export function newDispatchState(stage: Stage, unregistered = false, location: readonly SourceRange[] = lineRanges(stage.startLine, stage.endLine)): DispatchState {
  return {
    location,
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

/**
 * `[stage 2/5] ` in front of a step's name (BuildKit's prefixCommand); counts the step. In a
 * multi-platform build, `[linux/arm64 stage 2/5] `, with `->arm64` after the platform when the
 * step's TARGET* variables (env) name another one (a cross-compiling stage).
 */
export function prefixCommand(ds: DispatchState, str: string, env?: readonly string[]): string {
  if (ds.cmdTotal === 0) return str;
  ds.cmdIndex++;
  const width = Math.floor(1 + Math.log10(ds.cmdTotal));
  const platform = ds.namePlatform ? `${formatPlatform(ds.namePlatform)}${formatTargetPlatform(ds.namePlatform, platformFromEnv(env ?? []))} ` : "";
  return `[${platform}${ds.stageName ? `${ds.stageName} ` : ""}${String(ds.cmdIndex).padStart(width, " ")}/${ds.cmdTotal}] ${str}`;
}

/** "->ARCH[/VARIANT]" (same OS) or "->OS/ARCH" when target differs from base, else "" (Go's formatTargetPlatform). */
function formatTargetPlatform(base: Platform, target: Partial<Platform> | undefined): string {
  if (target === undefined) return "";
  const p = normalizePlatform({ os: target.os || base.os, architecture: target.architecture || base.architecture, ...(target.variant ? { variant: target.variant } : {}) });
  if (p.os === base.os && p.architecture !== base.architecture) return `->${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
  if (p.os !== base.os) return `->${formatPlatform(p)}`;
  return "";
}

/** The platform TARGETPLATFORM or TARGETOS/TARGETARCH/TARGETVARIANT name in env, if any (Go's platformFromEnv). */
function platformFromEnv(env: readonly string[]): Partial<Platform> | undefined {
  const p: { os?: string; architecture?: string; variant?: string } = {};
  let set = false;
  for (const kv of env) {
    const eq = kv.indexOf("=");
    const [k, v] = eq < 0 ? [kv, ""] : [kv.slice(0, eq), kv.slice(eq + 1)];
    if (k === "TARGETPLATFORM") {
      try {
        return parsePlatform(v);
      } catch {
        continue;
      }
    }
    if (k === "TARGETOS") [p.os, set] = [v, true];
    else if (k === "TARGETARCH") [p.architecture, set] = [v, true];
    else if (k === "TARGETVARIANT") [p.variant, set] = [v, true];
  }
  return set ? p : undefined;
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
