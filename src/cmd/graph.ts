// `buildkit graph NAME [flags]`: prints the Definition of a bundled example, byte for byte
// what `bun examples/NAME.ts [flags]` prints. `buildkit graph --list` names them.
import { defineCommand, type ArgsDef } from "citty";
import { EXAMPLES, exampleDefinition, exampleHelp, findExample } from "../../examples/index.ts";
import { FLAGS } from "../../examples/lib/options.ts";
import { LLBError } from "../core/llb/index.ts";
import { UsageError } from "./exit.ts";

/** The examples' flags, declared so that `--help` lists them and unknown ones are refused. */
const exampleArgs: ArgsDef = Object.fromEntries(
  Object.entries(FLAGS)
    .filter(([name]) => name !== "help")
    .map(([name, f]) => [name, { type: f.type, description: `example flag (default ${"default" in f ? f.default : "none"})` }]),
);

export default defineCommand({
  meta: { name: "graph", description: "Print the build definition of a bundled example (it runs nothing)" },
  args: {
    name: { type: "positional", required: false, description: `example: ${EXAMPLES.map((e) => e.name).join(", ")}` },
    list: { type: "boolean", description: "List the examples" },
    ...exampleArgs,
  },
  async run({ args, rawArgs }) {
    if (args.list) {
      for (const e of EXAMPLES) process.stdout.write(`${e.name}\t${e.summary}\n`);
      return;
    }
    const name = args.name;
    if (!name) throw new UsageError("graph: name an example (see 'buildkit graph --list')");
    const example = findExample(name);
    if (!example) throw new UsageError(`graph: no example named "${name}" (see 'buildkit graph --list')`);
    let out: Uint8Array | "help";
    try {
      out = exampleDefinition(example, rawArgs.filter((a) => a !== name));
    } catch (err) {
      if (err instanceof LLBError) throw new UsageError(`graph ${name}: ${err.message}`);
      throw err;
    }
    if (out === "help") process.stdout.write(exampleHelp(example));
    else await Bun.write(Bun.stdout, out);
  },
});
