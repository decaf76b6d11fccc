/** An instruction's `--name[=value]` flags, checked against the ones it accepts (BuildKit's BFlags). */
type FlagType = "bool" | "string" | "strings";

export class Flags {
  readonly #args: readonly string[];
  readonly #defs = new Map<string, { type: FlagType; default: string }>();
  readonly #values = new Map<string, string[]>();

  constructor(args: readonly string[]) {
    this.#args = args;
  }

  declare(name: string, type: FlagType, defaultValue = ""): this {
    this.#defs.set(name, { type, default: defaultValue });
    return this;
  }

  /** Checks every flag; throws "unknown flag: x" and friends. */
  parse(): this {
    for (const raw of this.#args) {
      if (!raw.startsWith("--")) throw new Error(`arg should start with -- : ${raw}`);
      if (raw === "--") break;
      const eq = raw.indexOf("=");
      const name = eq >= 0 ? raw.slice(2, eq) : raw.slice(2);
      const value = eq >= 0 ? raw.slice(eq + 1) : "";
      const def = this.#defs.get(name);
      if (!def) throw new Error(`unknown flag: ${name}`);
      const prev = this.#values.get(name);
      if (prev && def.type !== "strings") throw new Error(`duplicate flag specified: ${name}`);
      switch (def.type) {
        case "bool": {
          if (eq >= 0 && value === "") throw new Error(`missing a value on flag: ${name}`);
          const lower = value.toLowerCase();
          if (lower !== "" && lower !== "true" && lower !== "false") throw new Error(`expecting boolean value for flag ${name}, not: ${value}`);
          this.#values.set(name, [lower || "true"]);
          break;
        }
        case "string":
        case "strings":
          if (eq < 0) throw new Error(`missing a value on flag: ${name}`);
          this.#values.set(name, [...(prev ?? []), value]);
          break;
      }
    }
    return this;
  }

  string(name: string): string {
    return this.#values.get(name)?.[0] ?? this.#defs.get(name)?.default ?? "";
  }
  bool(name: string): boolean {
    return this.string(name) === "true";
  }
  strings(name: string): string[] {
    return this.#values.get(name) ?? [];
  }
  used(name: string): boolean {
    return this.#values.has(name);
  }
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds. */
export function parseGoDuration(s: string): number {
  if (s === "0") return 0;
  const re = /(\d*\.?\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest[0] === "-" ? -1 : 1;
    rest = rest.slice(1);
  }
  let consumed = 0;
  while ((m = re.exec(rest))) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (rest === "" || consumed !== rest.length) throw new Error(`time: invalid duration "${s}"`);
  return sign * Math.round(total);
}
