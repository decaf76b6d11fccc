// The command table behind the entry (main.ts, which answers `--version` itself). Subcommands
// load on first use so that start-up (`--help` of one command) does not pay for modules it does
// not run.
//
// Commands are citty command definitions; this file finds the one argv names, checks its flags,
// parses them (args.ts, as citty would, without loading citty and its node:util) and runs it,
// with what citty's runMain lacks for us: exit 2 with a one-line error for usage mistakes,
// unknown flags as errors (citty ignores them) and a global --debug. citty itself loads only to
// render --help.
import type { ArgsDef, CommandDef, Resolvable, SubCommandsDef } from "citty";
import { parseCommandArgs } from "./args.ts";
import { defineCommand } from "./command.ts";
import { fail, oneLine, setDebug, UsageError } from "./exit.ts";
import { configureLogging } from "./log.ts";
import { asksForRawJSON, setNoticeMode } from "./notice.ts";
import { stdoutStream } from "./stdout.ts";
import versionCommand, { VERSION } from "./version.ts";

// Subcommands have their own args types; citty's SubCommandsDef erases them the same way.
type AnyCommand = CommandDef<any>;

/** Each stub's load error, thrown when someone runs that command. */
const unavailable = new WeakMap<AnyCommand, Error>();

/** Stands in for a subcommand whose module failed to load: --help lists it with the reason. */
function unavailableCommand(name: string, cause: unknown): AnyCommand {
  const stub = defineCommand({ meta: { name, description: `(unavailable: ${oneLine(cause)})` } });
  unavailable.set(stub, new Error(`loading command "${name}": ${oneLine(cause)}`, { cause }));
  return stub;
}

export const main = defineCommand({
  meta: {
    name: "buildkit",
    version: VERSION,
    description: "A TypeScript re-implementation of BuildKit",
  },
  args: {
    // Both are handled before citty parses (main.ts and run); declared here so --help lists them.
    version: { type: "boolean", alias: "v", description: "Print the version and exit" },
    debug: { type: "boolean", description: "Show stacks with errors and debug logs (or BUILDKIT_DEBUG=1)" },
  },
  subCommands: {
    // Loaded on first use. The import sits lexically inside try so that `bun build` still
    // compiles this file while a command's module is missing (it becomes a runtime import).
    graph: async () => {
      try {
        return (await import("./graph.ts")).default;
      } catch (err) {
        return unavailableCommand("graph", err);
      }
    },
    build: async () => {
      try {
        return (await import("./build.ts")).default;
      } catch (err) {
        return unavailableCommand("build", err);
      }
    },
    serve: async () => {
      try {
        return (await import("./serve.ts")).default;
      } catch (err) {
        return unavailableCommand("serve", err);
      }
    },
    du: async () => {
      try {
        return (await import("./du.ts")).default;
      } catch (err) {
        return unavailableCommand("du", err);
      }
    },
    prune: async () => {
      try {
        return (await import("./prune.ts")).default;
      } catch (err) {
        return unavailableCommand("prune", err);
      }
    },
    frontend: async () => {
      try {
        return (await import("./frontend.ts")).default;
      } catch (err) {
        return unavailableCommand("frontend", err);
      }
    },
    debug: async () => {
      try {
        return (await import("./debug.ts")).default;
      } catch (err) {
        return unavailableCommand("debug", err);
      }
    },
    version: versionCommand,
  },
});

async function resolveValue<T>(value: Resolvable<T>): Promise<T> {
  return typeof value === "function" ? (value as () => T | Promise<T>)() : value;
}

/** Every spelling citty accepts for a flag (name, kebab-case, camelCase, aliases), to its type. */
function flagTable(argsDef: ArgsDef): Map<string, string> {
  const table = new Map<string, string>();
  for (const [name, def] of Object.entries(argsDef)) {
    const type = def.type ?? "string";
    if (type === "positional") continue;
    const kebab = kebabOf(name);
    const camel = camelOf(name);
    const aliases = "alias" in def ? [def.alias ?? []].flat() : [];
    for (const spelling of [name, kebab, camel, ...aliases]) table.set(spelling, type);
  }
  return table;
}

// Plain loops, not regex replaces: this runs on every command line, and the ~60 cold regex
// replaces (one with a callback) cost ~2.7 ms of CPU in profiles of a cached build.
const isLowerOrDigit = (c: string) => (c >= "a" && c <= "z") || (c >= "0" && c <= "9");

/** "fooBar" -> "foo-bar" (an upper-case letter after a lower-case one or a digit), lower-cased. */
function kebabOf(name: string): string {
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    out += i > 0 && c >= "A" && c <= "Z" && isLowerOrDigit(name[i - 1]!) ? `-${c}` : c;
  }
  return out.toLowerCase();
}

/** "foo-bar" -> "fooBar" (a dash before a lower-case letter or digit dropped, that one upper-cased). */
function camelOf(name: string): string {
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    const next = name[i + 1];
    if (c === "-" && next !== undefined && isLowerOrDigit(next)) {
      out += next.toUpperCase();
      i++;
    } else out += c;
  }
  return out;
}

const isFlag = (token: string) => token.startsWith("-") && token !== "-" && !/^-\d/.test(token);

/**
 * Scans one command's part of argv: checks its flags (when strict) and returns the index of the
 * first positional argument, which names the subcommand when the command has any (-1: none).
 */
function scan(argv: readonly string[], argsDef: ArgsDef, path: string, strict: boolean): number {
  const flags = flagTable(argsDef);
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? "";
    if (token === "--") return -1;
    if (!isFlag(token)) return i;
    const [name = "", inline] = token.replace(/^--?/, "").split(/=(.*)/s);
    const type = flags.get(name) ?? (name.startsWith("no-") && flags.get(name.slice(3)) === "boolean" ? "boolean" : undefined);
    if (type === undefined) {
      if (strict) throw new UsageError(`unknown flag ${token.split("=")[0]} for "${path}" (see '${path} --help')`);
      continue;
    }
    if (type === "string" || type === "enum") {
      if (inline !== undefined) continue;
      if (i + 1 >= argv.length && strict) throw new UsageError(`flag ${token} needs a value`);
      i++; // the flag's value, even if it starts with "-" (as citty's parser takes it)
    }
  }
  return -1;
}

interface Level {
  readonly cmd: AnyCommand;
  readonly path: string; // "buildkit debug dump-llb"
  /** The command line after this command's name: its own flags and positionals. */
  readonly argv: readonly string[];
}

async function findSubCommand(subs: SubCommandsDef, name: string): Promise<AnyCommand | undefined> {
  if (Object.hasOwn(subs, name)) return resolveValue(subs[name] as Resolvable<AnyCommand>);
  for (const sub of Object.values(subs)) {
    const cmd = await resolveValue(sub);
    const meta = await resolveValue(cmd.meta ?? {});
    if ([meta.alias ?? []].flat().includes(name)) return cmd;
  }
  return undefined;
}

/**
 * Follows argv down the command tree. Strict (when running): unknown commands and flags are
 * usage errors, and a command whose module failed to load reports that. Lenient (for --help):
 * stops at the deepest command it can find.
 */
async function resolveChain(argv: readonly string[], strict: boolean): Promise<Level[]> {
  const chain: Level[] = [{ cmd: main, path: "buildkit", argv }];
  let rest = argv;
  for (;;) {
    const { cmd, path } = chain[chain.length - 1] as Level;
    const broken = unavailable.get(cmd);
    if (broken && strict) throw broken;
    const subs = await resolveValue(cmd.subCommands ?? {});
    const index = scan(rest, await resolveValue(cmd.args ?? {}), path, strict);
    const name = rest[index];
    if (Object.keys(subs).length === 0 || index < 0 || name === undefined) return chain;
    const sub = await findSubCommand(subs, name);
    if (!sub) {
      if (strict) throw new UsageError(`unknown command "${name}" for "${path}" (see '${path} --help')`);
      return chain;
    }
    rest = rest.slice(index + 1);
    chain.push({ cmd: sub, path: `${path} ${name}`, argv: rest });
  }
}

async function printUsage(level: Level): Promise<void> {
  const meta = await resolveValue(level.cmd.meta ?? {});
  // citty names a nested command after its parent only; give it the whole path instead.
  const { renderUsage } = await import("citty");
  const text = await renderUsage({ ...level.cmd, meta: { ...meta, name: level.path, version: VERSION } });
  // citty colours whenever CI/NO_COLOR are unset; keep escapes out of pipes and files.
  const plain = stdoutStream().isTTY ? text : text.replace(/\x1b\[[0-9;]*m/g, "");
  stdoutStream().write(`${plain.replace(/ +$/gm, "")}\n`);
}

/** Runs a command line other than `--version` (main.ts answers that). */
export async function run(argv: readonly string[]): Promise<void> {
  const end = argv.indexOf("--");
  const options = end < 0 ? argv : argv.slice(0, end);
  // --debug is global: accepted before or after the command name.
  if (options.includes("--debug")) setDebug(true);
  // Before parsing, so that even a usage error is a JSON line in a rawjson stream.
  if (asksForRawJSON(argv)) setNoticeMode({ json: true });
  const args = argv.filter((a, i) => a !== "--debug" || (end >= 0 && i > end));
  try {
    const help = options.includes("--help") || options.includes("-h");
    const chain = await resolveChain(args, !help);
    const leaf = chain[chain.length - 1] as Level;
    // A command group called alone (`buildkit`, `buildkit debug`) shows its usage.
    if (help || (!leaf.cmd.run && !leaf.cmd.default)) return await printUsage(leaf);
    await configureLogging(`buildkit ${VERSION} on bun ${Bun.version}`);
    const rawArgs = [...leaf.argv];
    const run = leaf.cmd.run;
    if (run) await run({ rawArgs, args: parseCommandArgs(rawArgs, await resolveValue(leaf.cmd.args ?? {})), cmd: leaf.cmd });
  } catch (err) {
    fail(err);
  }
}

