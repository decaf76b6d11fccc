/** What every instruction's dispatch reads besides its stage (BuildKit's dispatchOpt). */
import type { Platform, State } from "../../llb/index.ts";
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
