import { BuildkitError } from "../../src/core/errors.ts";
import type { Example } from "./example.ts";
import { parseExampleArgs, USAGE } from "./options.ts";

/** The Definition bytes an example prints for these flags, or "help". */
export function exampleDefinition(example: Example, argv: readonly string[]): Uint8Array | "help" {
  const opts = parseExampleArgs(argv, example.allowsLocal);
  if (opts === "help") return "help";
  return example.build(opts).marshal({ platform: opts.platform });
}

export function exampleHelp(example: Example): string {
  return `${example.name}: ${example.summary}\n\nPrints a build definition (pb.Definition) on stdout; it runs nothing.\n\n${USAGE}\n`;
}

/** Entry point when an example file is run directly: `bun examples/buildkit2.ts --target standalone`. */
export async function runExample(example: Example, argv = process.argv.slice(2)): Promise<void> {
  try {
    const out = exampleDefinition(example, argv);
    if (out === "help") {
      process.stdout.write(exampleHelp(example));
      return;
    }
    await Bun.write(Bun.stdout, out);
  } catch (err) {
    if (!(err instanceof BuildkitError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(2);
  }
}
