// `buildkit debug`: tools for looking inside builds without a daemon. The work is in core;
// these commands only read input, call it and print.
import { defineCommand } from "citty";
import { withContext } from "../core/errors.ts";
import { loadDefinition } from "../core/llb/definition.ts";
import { dumpDot, dumpJSON } from "../core/llb/dump.ts";
import { fail, UsageError } from "./exit.ts";

/** The definition's bytes from a file, or from stdin when no path (or "-") is given. */
async function readDefinition(path: string | undefined): Promise<Uint8Array> {
  if (path === undefined || path === "-") return new Uint8Array(await Bun.stdin.arrayBuffer());
  try {
    return await Bun.file(path).bytes();
  } catch (err) {
    throw withContext(`reading ${path}`, err);
  }
}

function pickPath(flag: string | undefined, positional: string | undefined): string | undefined {
  if (flag !== undefined && positional !== undefined) throw new UsageError("give the definition either as LLBFILE or with --file, not both");
  return flag ?? positional;
}

const dumpLLB = defineCommand({
  meta: {
    name: "dump-llb",
    description: "Print an LLB definition as JSON, one line per op (or as a Graphviz graph); no daemon needed",
  },
  args: {
    llbfile: { type: "positional", required: false, description: "File holding the definition (default: stdin)" },
    file: { type: "string", alias: "f", valueHint: "PATH", description: "Read the definition from PATH ('-' for stdin)" },
    dot: { type: "boolean", description: "Print a Graphviz digraph instead of JSON" },
  },
  async run({ args }) {
    try {
      const positional = typeof args.llbfile === "string" && args.llbfile !== "" ? args.llbfile : undefined;
      const def = loadDefinition(await readDefinition(pickPath(args.file, positional)));
      process.stdout.write(args.dot ? dumpDot(def) : dumpJSON(def).map((line) => `${line}\n`).join(""));
    } catch (err) {
      // One line on stderr and a non-zero exit, also when run outside main.ts.
      fail(err);
    }
  },
});

export default defineCommand({
  meta: { name: "debug", description: "Debugging tools that work without a daemon" },
  subCommands: { "dump-llb": dumpLLB },
});
