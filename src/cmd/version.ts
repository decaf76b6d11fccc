// The version line, kept free of citty (and so of node:util): the entry (main.ts) answers
// `--version` with it before it loads anything else.
import type { CommandDef } from "citty";
// A JSON import, so `bun build --compile` embeds the version in the binary.
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;

/** What `buildkit --version` and `buildkit version` print. */
export const VERSION_LINE = `buildkit ${VERSION}`;

/** `buildkit version`: the same line as `buildkit --version`. (citty's defineCommand is the identity.) */
const versionCommand: CommandDef = {
  meta: { name: "version", description: "Print the version" },
  run() {
    console.log(VERSION_LINE);
  },
};
export default versionCommand;
