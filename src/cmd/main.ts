#!/usr/bin/env bun
// The one CLI entry: `buildkit <command>`. `--version` is answered here, before anything else is
// imported: the command table (cli.ts), citty and the node:util it loads (~5 ms) come in only
// for the other commands.
import { VERSION_LINE } from "./version.ts";

/** `buildkit --version` or `-v`, alone or beside the global --debug (before any `--`). */
export function asksForVersion(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  const args = argv.filter((a, i) => a !== "--debug" || (end >= 0 && i > end));
  return args.length === 1 && (args[0] === "--version" || args[0] === "-v");
}

export async function run(argv: readonly string[]): Promise<void> {
  if (asksForVersion(argv)) {
    console.log(VERSION_LINE);
    return;
  }
  await (await import("./cli.ts")).run(argv);
}

if (import.meta.main) await run(process.argv.slice(2));
