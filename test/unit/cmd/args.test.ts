// Our argv parser (src/cmd/args.ts) against citty's own parseArgs, which the commands were
// written for: every command's flags, over command lines of every shape, read alike.
import { describe, expect, test } from "bun:test";
import { parseArgs as cittyParseArgs, type ArgsDef, type CommandDef } from "citty";
import { camelCase, kebabCase, parseCommandArgs } from "../../../src/cmd/args.ts";

const resolve = async <T>(v: T | (() => T | Promise<T>)): Promise<T> => (typeof v === "function" ? await (v as () => T | Promise<T>)() : v);

async function commands(): Promise<Map<string, ArgsDef>> {
  const out = new Map<string, ArgsDef>();
  const add = async (path: string, cmd: CommandDef) => {
    out.set(path, (await resolve(cmd.args ?? {})) as ArgsDef);
    for (const [name, sub] of Object.entries((await resolve(cmd.subCommands ?? {})) as Record<string, CommandDef | (() => Promise<CommandDef>)>)) {
      await add(`${path} ${name}`, await resolve(sub));
    }
  };
  for (const name of ["build", "du", "prune", "serve", "graph", "debug"]) await add(name, (await import(`../../../src/cmd/${name}.ts`)).default);
  return out;
}

/** Command lines built from each command's own flags: long, short, =, negated, missing values, groups, `--`. */
function argvs(def: ArgsDef): string[][] {
  const flags = Object.entries(def).filter(([, d]) => d.type !== "positional");
  const lines: string[][] = [[], ["pos1", "pos2"], ["--", "--root", "x"], ["-"], ["--unknown", "v"], ["--unknown=v", "-z"]];
  for (const [name, d] of flags) {
    const aliases = "alias" in d && d.alias ? [d.alias].flat() : [];
    const spell = [name, camelCase(name), kebabCase(name), ...aliases];
    for (const s of spell) {
      const flag = s.length === 1 ? `-${s}` : `--${s}`;
      lines.push([flag], [flag, "value"], [flag, "-value"], [`${flag}=v`], [`${flag}=false`], [`--no-${s}`], [flag, "a", flag, "b"], ["pos", flag, "x", "pos2"]);
      if (s.length === 1) lines.push([`-${s}value`], [`-q${s}`, "v"], [`-${s}q`]);
    }
    lines.push([`--no-${name}`, `--${name}`], [`--${name}`, "--", "rest"]);
  }
  return lines;
}

describe("parseCommandArgs reads argv as citty's parseArgs does", async () => {
  for (const [path, def] of await commands()) {
    test(path, () => {
      const names = Object.keys(def).flatMap((n) => [n, camelCase(n), kebabCase(n)]);
      for (const argv of argvs(def)) {
        let theirs: Record<string, unknown> | Error;
        try {
          theirs = cittyParseArgs([...argv], def) as Record<string, unknown>;
        } catch (err) {
          theirs = err as Error;
        }
        let ours: Record<string, unknown> | Error;
        try {
          ours = parseCommandArgs(argv, def) as Record<string, unknown>;
        } catch (err) {
          ours = err as Error;
        }
        if (theirs instanceof Error || ours instanceof Error) {
          expect([argv, ours instanceof Error ? ours.message.toLowerCase() : ours]).toEqual([argv, theirs instanceof Error ? theirs.message.toLowerCase() : theirs]);
          continue;
        }
        const view = (r: Record<string, unknown>) => Object.fromEntries([...names, "_"].map((n) => [n, r[n]]));
        expect([argv, view(ours)]).toEqual([argv, view(theirs)]);
      }
    });
  }
});

test("camelCase and kebabCase spell flag names as citty does", () => {
  for (const [name, camel, kebab] of [
    ["metadata-file", "metadataFile", "metadata-file"],
    ["gc-keep-storage", "gcKeepStorage", "gc-keep-storage"],
    ["tlscacert", "tlscacert", "tlscacert"],
    ["metadataFile", "metadataFile", "metadata-file"],
    ["TLSCert", "tLSCert", "tls-cert"],
    ["oci-runtime", "ociRuntime", "oci-runtime"],
  ] as const) {
    expect([camelCase(name), kebabCase(name)]).toEqual([camel, kebab]);
  }
});
