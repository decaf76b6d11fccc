import { parseArgs } from "node:util";
import { LLBError, hostPlatform, parsePlatform, type Platform } from "../../src/core/llb/index.ts";

/** What every example accepts: which target, which versions, which base images. */
export interface ExampleOptions {
  /** standalone: buildkit + runc; containerd: plus containerd. */
  readonly target: "standalone" | "containerd";
  /** Versions (git refs) of each component; buildkit3 also takes "local". */
  readonly buildkit: string;
  readonly runc: string;
  readonly containerd: string;
  /** Where this project's source lives. */
  readonly buildkitRepo: string;
  readonly goImage: string;
  readonly nodeImage: string;
  readonly runtimeImage: string;
  /** Platform the definition is marshalled for; default linux on this machine's architecture. */
  readonly platform: Platform;
}

/** The flags, in node:util parseArgs form; `buildkit graph` declares the same ones. */
export const FLAGS = {
  target: { type: "string", default: "containerd" },
  buildkit: { type: "string", default: "main" },
  runc: { type: "string", default: "v1.1.12" },
  containerd: { type: "string", default: "v1.7.20" },
  "buildkit-repo": { type: "string", default: "https://github.com/buildkit-ts/buildkit-ts.git" },
  "go-image": { type: "string", default: "docker.io/library/golang:1.22-bookworm" },
  "node-image": { type: "string", default: "docker.io/library/node:20-bookworm" },
  "runtime-image": { type: "string", default: "docker.io/library/debian:bookworm-slim" },
  platform: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

export const USAGE = `flags:
  --target standalone|containerd   what to build (default containerd)
  --buildkit REF                   buildkit-ts version to build (default main)
  --runc REF                       runc version (default v1.1.12)
  --containerd REF                 containerd version (default v1.7.20)
  --buildkit-repo URL              buildkit-ts repository
  --go-image REF, --node-image REF, --runtime-image REF   base images
  --platform OS/ARCH               platform to marshal for (default linux/<this machine's arch>)`;

/** Parses an example's flags; returns "help" when --help was asked for. Throws LLBError on bad flags. */
export function parseExampleArgs(argv: readonly string[], allowLocal: boolean): ExampleOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new LLBError((err as Error).message);
  }
  if (values.help) return "help";
  const target = values.target;
  if (target !== "standalone" && target !== "containerd") throw new LLBError(`--target must be standalone or containerd, not "${target}"`);
  if (!allowLocal) {
    for (const k of ["buildkit", "runc", "containerd"] as const) {
      if (values[k] === "local") throw new LLBError(`--${k}=local needs local sources: use buildkit3`);
    }
  }
  return {
    target,
    buildkit: values.buildkit,
    runc: values.runc,
    containerd: values.containerd,
    buildkitRepo: values["buildkit-repo"],
    goImage: values["go-image"],
    nodeImage: values["node-image"],
    runtimeImage: values["runtime-image"],
    platform: values.platform ? parsePlatform(values.platform) : { os: "linux", architecture: hostPlatform().architecture },
  };
}
