/** What every instruction's dispatch reads besides its stage (BuildKit's dispatchOpt). */
import type { HostIP, NetMode, Platform, SourceMap, State, Ulimit } from "../../llb/index.ts";
import type { ArgKV } from "./instructions.ts";
import type { DispatchStates } from "./dispatch-state.ts";
import { processWord, envMap } from "./shell-lex.ts";

export interface DispatchContext {
  all: DispatchStates;
  metaArgs: ArgKV[];
  buildArgs: Readonly<Record<string, string>>;
  escape: "\\" | "`";
  buildContext: State;
  targetPlatform: Platform;
  /** The solver's LLB caps: options it lacks are left out, as dockerfile2llb leaves them. */
  llbCaps: ReadonlySet<string>;
  /** What every RUN gets from the frontend's attributes. */
  sandbox: RunSandbox;
  /** What every stage starts with: hostname ("" for none) and network. */
  stage: { hostname: string; network: NetMode };
  /** The Dockerfile's source map: RUN, WORKDIR, COPY and ADD ops get their lines in it. */
  sourceMap?: SourceMap;
}

export interface RunSandbox {
  extraHosts: readonly HostIP[];
  /** Bytes of a /dev/shm tmpfs; 0 for none. */
  shmSize: number;
  ulimits: readonly Ulimit[];
  /** Prefix of cache mount ids ("" for none). */
  cacheIDNamespace: string;
}

/** A word with the state's env substituted (the dispatch-time expansion). */
export function expandWord(ctx: DispatchContext, env: readonly string[], word: string): string {
  return processWord(word, envMap(env), { escape: ctx.escape }).word;
}

/**
 * A command's text with variables substituted for its vertex name; on any error the text
 * as written (BuildKit's processCmdEnv).
 */
export function nameWithEnv(ctx: DispatchContext, env: readonly string[], text: string, raw = false): string {
  let out = text;
  try {
    out = processWord(text, envMap(env), { escape: ctx.escape, rawQuotes: raw, skipUnset: raw }).word;
  } catch {
    out = text;
  }
  const sp = out.indexOf(" ");
  return sp < 0 ? out.toUpperCase() : out.slice(0, sp).toUpperCase() + out.slice(sp);
}
