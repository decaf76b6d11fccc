// Debug logging through consola, loaded only when debug logging is on (--debug or
// BUILDKIT_DEBUG=1): without it, every run would pay for loading consola (~5 ms of start-up)
// to log nothing.
import type { ConsolaInstance } from "consola";
import { isDebug } from "./exit.ts";

let logger: ConsolaInstance | undefined;

/** Sets consola up (logs on stderr: stdout carries data) when debug logging is on. */
export async function configureLogging(firstLine: string): Promise<void> {
  if (!isDebug()) return;
  const { consola } = await import("consola");
  consola.options.stdout = process.stderr;
  consola.level = 4;
  logger = consola;
  logger.debug(firstLine);
}

/** A debug line; nothing unless debug logging is on. */
export function debugLog(message: string): void {
  logger?.debug(message);
}
