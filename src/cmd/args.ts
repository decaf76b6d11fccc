// A command's argv into its args object, as citty's runCommand makes it, without citty at run
// time: citty parses through node:util's parseArgs, and loading node:util costs ~5 ms of every
// command's start-up. citty stays for --help (renderUsage) and for the types.
//
// What a command sees (citty 0.2's behaviour, kept so the commands do not change):
// - `--name value`, `--name=value`, `-a value`, `-avalue` for strings; a string flag's value is
//   the next token whatever it looks like; a string flag with no value at all is "".
// - `--name`, `-a`, short groups `-ab` for booleans; `--name=false` is false; `--no-name` is false.
// - Every flag reads under its name, its aliases and its camelCase and kebab-case spellings.
// - Defaults for flags not given; positionals in order, `--` ends the flags; a missing required
//   positional or flag is a usage error. Unknown flags are kept (cli.ts rejects them first).
import type { ArgDef, ArgsDef, ParsedArgs } from "citty";
import { UsageError } from "./exit.ts";

type Kind = "string" | "boolean";
type Value = string | boolean;

/** Words of a flag name: split at -, _, / and . and where the case changes ("metadataFile", "TLSCert"). */
function words(name: string): string[] {
  const out: string[] = [];
  let word = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    if ("-_/.".includes(c)) {
      out.push(word);
      word = "";
      continue;
    }
    const upper = isUpper(c);
    const prev = word.at(-1);
    if (prev !== undefined && upper === true && isUpper(prev) === false) {
      out.push(word); // fooBar: a new word at B
      word = c;
      continue;
    }
    if (prev !== undefined && upper === false && isUpper(prev) === true && word.length > 1) {
      out.push(word.slice(0, -1)); // TLSCert: the new word starts at C
      word = prev + c;
      continue;
    }
    word += c;
  }
  out.push(word);
  return out;
}

/** true/false for letters, undefined for digits and the like. */
function isUpper(c: string): boolean | undefined {
  if (c >= "0" && c <= "9") return undefined;
  return c !== c.toLowerCase();
}

/** Spellings already worked out: args are read many times, mostly under the same few names. */
const camelCache = new Map<string, string>();
const kebabCache = new Map<string, string>();

export function camelCase(name: string): string {
  let camel = camelCache.get(name);
  if (camel === undefined) camelCache.set(name, (camel = toCamel(name)));
  return camel;
}

export function kebabCase(name: string): string {
  let kebab = kebabCache.get(name);
  if (kebab === undefined) kebabCache.set(name, (kebab = toKebab(name)));
  return kebab;
}

/** A plain kebab-case name ("gc-keep-storage"): its spellings need no word splitting. */
const PLAIN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function toCamel(name: string): string {
  if (PLAIN.test(name)) return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const pascal = words(name)
    .map((w) => (w ? (w[0] as string).toUpperCase() + w.slice(1) : ""))
    .join("");
  return pascal ? (pascal[0] as string).toLowerCase() + pascal.slice(1) : "";
}

function toKebab(name: string): string {
  if (PLAIN.test(name)) return name;
  return words(name)
    .map((w) => w.toLowerCase())
    .join("-");
}

const toArray = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The spellings of each flag, grouped: any spelling names every other one of its group. */
class Spellings {
  readonly #groups = new Map<string, Set<string>>();
  readonly #kinds = new Map<string, Kind>();

  add(name: string, kind: Kind, others: readonly string[]): void {
    const group = this.#groups.get(name) ?? new Set([name]);
    for (const o of others) group.add(o);
    for (const s of group) {
      this.#groups.set(s, group);
      this.#kinds.set(s, kind);
    }
  }

  kind(spelling: string): Kind | undefined {
    return this.#kinds.get(spelling);
  }

  group(spelling: string): ReadonlySet<string> {
    return this.#groups.get(spelling) ?? new Set([spelling]);
  }
}

interface Flags {
  /** By the spelling used; a later occurrence replaces an earlier one. */
  readonly values: Map<string, Value>;
  /** `--no-NAME`: false, whatever else the command line says. */
  readonly negated: Set<string>;
  readonly positionals: string[];
}

/** Splits argv into flag values (by the spelling used) and positionals. */
function scanArgv(argv: readonly string[], spellings: Spellings): Flags {
  const values = new Map<string, Value>();
  const negated = new Set<string>();
  const positionals: string[] = [];
  const isString = (name: string) => spellings.kind(name) === "string";
  const queue = [...argv];
  while (queue.length > 0) {
    const arg = queue.shift() as string;
    if (arg === "--") {
      positionals.push(...queue);
      break;
    }
    if (arg.startsWith("--no-")) {
      negated.add(arg.slice(5));
      continue;
    }
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=", 3);
      if (eq >= 0) {
        values.set(arg.slice(2, eq), arg.slice(eq + 1));
        continue;
      }
      const name = arg.slice(2);
      values.set(name, isString(name) && queue.length > 0 ? (queue.shift() as string) : true);
      continue;
    }
    if (arg.startsWith("-") && arg.length >= 2 && arg[1] !== "-") {
      const letter = arg[1] as string;
      if (arg.length === 2) {
        values.set(letter, isString(letter) && queue.length > 0 ? (queue.shift() as string) : true);
        continue;
      }
      if (isString(letter)) {
        values.set(letter, arg.slice(2)); // -fFILE
        continue;
      }
      // A group of short flags; a string one takes the rest of the group as its value.
      for (let i = 1; i < arg.length; i++) {
        const l = arg[i] as string;
        if (isString(l) && i < arg.length - 1) {
          values.set(l, arg.slice(i + 1));
          break;
        }
        values.set(l, isString(l) && i === arg.length - 1 && queue.length > 0 ? (queue.shift() as string) : true);
      }
      continue;
    }
    positionals.push(arg);
  }
  return { values, negated, positionals };
}

/** The args object a command's run() gets for argv (this command's part of the command line). */
export function parseCommandArgs<T extends ArgsDef>(argv: readonly string[], argsDef: T): ParsedArgs<T> {
  const defs = Object.entries(argsDef) as [string, ArgDef][];
  const spellings = new Spellings();
  for (const [name, def] of defs) {
    if (def.type === "positional") continue;
    const kind: Kind = def.type === "boolean" ? "boolean" : "string";
    spellings.add(name, kind, [...toArray("alias" in def ? def.alias : undefined), camelCase(name), kebabCase(name)]);
  }
  const { values, negated, positionals } = scanArgv(argv, spellings);
  const out: Record<string, unknown> = { _: positionals };
  // Defaults first; a given value (under any spelling) then replaces the whole group's.
  for (const [name, def] of defs) {
    if (def.type === "positional" || def.default === undefined) continue;
    for (const s of spellings.group(name)) out[s] = def.default;
  }
  for (const [given, raw] of values) {
    const kind = spellings.kind(given);
    const value = kind === "boolean" && typeof raw === "string" ? raw !== "false" : kind === "string" && raw === true ? "" : raw;
    for (const s of spellings.group(given)) out[s] = value;
  }
  for (const name of negated) for (const s of spellings.group(name)) out[s] = false;
  let rest = positionals;
  for (const [name, def] of defs) {
    if (def.type === "positional") {
      const [next, ...others] = rest;
      rest = others;
      if (next !== undefined) out[name] = next;
      else if (def.default === undefined && def.required !== false) throw new UsageError(`Missing required positional argument: ${name.toUpperCase()}`);
      else out[name] = def.default;
    } else if (def.type === "enum") {
      const v = out[name];
      if (v !== undefined && def.options && def.options.length > 0 && !def.options.includes(v as string)) {
        throw new UsageError(`Invalid value for argument: --${name} (${String(v)}). Expected one of: ${def.options.join(", ")}.`);
      }
    } else if (def.required && out[name] === undefined) {
      throw new UsageError(`Missing required argument: --${name}`);
    }
  }
  // Any other spelling of a name reads the same value (args.metadataFile, args["metadata-file"]).
  return new Proxy(out, {
    get: (target, prop) => (typeof prop === "string" ? (target[prop] ?? target[camelCase(prop)] ?? target[kebabCase(prop)]) : Reflect.get(target, prop)),
  }) as ParsedArgs<T>;
}
