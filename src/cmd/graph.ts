// `buildkit graph NAME [flags]`: prints the Definition of a bundled example, byte for byte
// what `bun examples/NAME.ts [flags]` prints. `buildkit graph --list` names them.
import type { ArgsDef } from "citty";
import { defineCommand } from "./command.ts";
import { EXAMPLES, exampleDefinition, exampleHelp, findExample } from "../../examples/index.ts";
import { FLAGS } from "../../examples/lib/options.ts";
import { LLBError } from "../core/llb/index.ts";
import { UsageError } from "./exit.ts";
import { writeStdout, stdoutStream } from "./stdout.ts";

/** What each example flag does (examples/lib/options.ts); a flag missing here says so. */
const EXAMPLE_FLAG_HELP: Readonly<Record<string, string>> = {
  target: "What the example builds: standalone or containerd; with --dockerfile, the stage to build",
  buildkit: "The buildkit-ts git ref to build",
  runc: "The runc git ref to build",
  containerd: "The containerd git ref to build",
  "buildkit-repo": "The buildkit-ts git repository URL",
  "go-image": "The base image for Go builds",
  "node-image": "The base image for the Bun/Node build",
  "runtime-image": "The base image of the result",
  platform: "The platform to marshal for, OS/ARCH (default: linux on this machine's architecture)",
};

/** The examples' flags, declared so that `--help` lists them and unknown ones are refused. */
const exampleArgs: ArgsDef = Object.fromEntries(
  Object.entries(FLAGS)
    .filter(([name]) => name !== "help")
    .map(([name, f]) => {
      const help = EXAMPLE_FLAG_HELP[name] ?? "An example's flag";
      return [name, { type: f.type, description: "default" in f ? `${help} (default ${f.default})` : help }];
    }),
);

/** Every value of a repeatable flag (`--build-arg A=1 --build-arg=B=2`). */
function repeated(rawArgs: readonly string[], flag: string): string[] {
  const out: string[] = [];
  rawArgs.forEach((a, i) => {
    if (a === flag && rawArgs[i + 1] !== undefined) out.push(rawArgs[i + 1]!);
    else if (a.startsWith(`${flag}=`)) out.push(a.slice(flag.length + 1));
  });
  return out;
}

/** `graph --dockerfile PATH`: the Definition BuildKit's dockerfile2llb would print for it. */
async function dockerfileGraph(path: string, rawArgs: readonly string[], target: string | undefined, config: string | undefined): Promise<Uint8Array> {
  const { convertDockerfile } = await import("../core/frontends/dockerfile/convert.ts");
  const { registryImageResolver } = await import("../core/frontends/dockerfile/daemonless.ts");
  const { DockerfileError } = await import("../core/frontends/dockerfile/errors.ts");
  const { createRegistryClient, loadRegistryConfig } = await import("../core/registry/index.ts");
  const buildArgs: Record<string, string> = {};
  for (const kv of repeated(rawArgs, "--build-arg")) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UsageError(`graph: --build-arg ${kv}: expected KEY=VALUE`);
    buildArgs[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const text = await Bun.file(path).text().catch((err: Error) => {
    throw new UsageError(`graph: reading ${path}: ${err.message}`);
  });
  const client = createRegistryClient({ config: config ? await loadRegistryConfig(config) : undefined });
  try {
    const r = await convertDockerfile(text, registryImageResolver(client), { target, buildArgs });
    return r.state.marshal(r.marshalOptions);
  } catch (err) {
    // BuildKit's message; the lines go along as the error's source, which the CLI prints above it.
    if (err instanceof DockerfileError) {
      const { withSource } = await import("../core/error-sources.ts");
      throw withSource(err, { info: { filename: path, data: new TextEncoder().encode(text) }, ranges: err.ranges });
    }
    throw err;
  }
}

export default defineCommand({
  meta: { name: "graph", description: "Print the build definition of a bundled example or a Dockerfile (it runs nothing)" },
  args: {
    name: { type: "positional", required: false, description: `example: ${EXAMPLES.map((e) => e.name).join(", ")}` },
    list: { type: "boolean", description: "List the examples" },
    dockerfile: { type: "string", description: "Convert this Dockerfile instead (with --target STAGE, --build-arg K=V, --config buildkitd.toml)" },
    "build-arg": { type: "string", description: "With --dockerfile: a build argument KEY=VALUE (repeatable)" },
    config: { type: "string", description: "With --dockerfile: buildkitd.toml for registry settings" },
    ...exampleArgs,
  },
  async run({ args, rawArgs }) {
    if (args.dockerfile) {
      const target = rawArgs.includes("--target") || rawArgs.some((a) => a.startsWith("--target=")) ? String(args.target) : undefined;
      await writeStdout(await dockerfileGraph(String(args.dockerfile), rawArgs, target, args.config ? String(args.config) : undefined));
      return;
    }
    if (args.list) {
      for (const e of EXAMPLES) stdoutStream().write(`${e.name}\t${e.summary}\n`);
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
    if (out === "help") stdoutStream().write(exampleHelp(example));
    else await writeStdout(out);
  },
});
