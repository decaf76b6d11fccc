import { defineCommand } from "citty";
// A JSON import, so `bun build --compile` embeds the version in the binary.
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;

/** `buildkit version`: the same line as `buildkit --version`. */
export default defineCommand({
  meta: { name: "version", description: "Print the version" },
  run() {
    console.log(`buildkit ${VERSION}`);
  },
});
