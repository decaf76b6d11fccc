#!/usr/bin/env bun
// Compiles src/cmd/main.ts into standalone executables: dist/buildkit-<os>-<arch>[.exe].
// Usage: bun scripts/build-binaries.ts [--only linux-x64,darwin-arm64]
//
// A target other than this machine's makes bun fetch that platform's runtime (the npm package
// @oven/bun-<os>-<arch>) into ~/.bun/install/cache on first use. A target that cannot be built
// is reported by name and the script exits 1 after trying the others.
import type { BunPlugin } from "bun";
import { statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

export const TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "windows-x64"] as const;
export type Target = (typeof TARGETS)[number];

const root = resolve(import.meta.dir, "..");
const entry = join(root, "src/cmd/main.ts");

export function outputPath(target: Target): string {
  return join(root, "dist", `buildkit-${target}${target.startsWith("windows-") ? ".exe" : ""}`);
}

/**
 * protobufjs requires long.js at load time to decode int64 fields as Long objects; we decode
 * them as numbers (src/core/pb/int64-as-number.ts), so long.js (and the WebAssembly module it
 * instantiates) is dead weight on every start: ~5 ms here. protobufjs treats a null module
 * as "no Long", which is what we want.
 */
const withoutLongJs: BunPlugin = {
  name: "without-long-js",
  setup(build) {
    build.onResolve({ filter: /^long$/ }, () => ({ path: "long", namespace: "no-long" }));
    build.onLoad({ filter: /.*/, namespace: "no-long" }, () => ({ contents: "module.exports = null;", loader: "js" }));
  },
};

export interface BuildOptions {
  /** Where the executable goes (default: outputPath(target)). */
  readonly outfile?: string;
  /** Keep identifiers, for CPU profiles with readable function names (bench/profile-summary.ts). */
  readonly readable?: boolean;
}

/** Builds one target; returns the output path or throws with bun's own messages. */
export async function buildTarget(target: Target, opts: BuildOptions = {}): Promise<string> {
  const outfile = opts.outfile ?? outputPath(target);
  const result = await Bun.build({
    entrypoints: [entry],
    plugins: [withoutLongJs],
    minify: opts.readable ? { whitespace: true, syntax: true, identifiers: false } : true,
    // Start-up: without splitting, the node builtins that lazily loaded modules import (consola
    // pulls in node:tty and node:readline) are hoisted into the entry and loaded on every run;
    // bytecode skips parsing. `--version` went from ~45 ms to ~8 ms here with both.
    splitting: true,
    bytecode: true,
    format: "esm",
    compile: {
      target: `bun-${target}`,
      outfile,
      // A CLI run in someone's project must not pick up that project's .env or bunfig.toml.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
    throw: false,
  });
  if (!result.success) throw new Error(result.logs.map((l) => l.message).join("; ") || "bun build failed");
  return outfile;
}

function parseOnly(argv: readonly string[]): Target[] {
  const i = argv.findIndex((a) => a === "--only" || a.startsWith("--only="));
  if (i < 0) return [...TARGETS];
  const arg = argv[i] ?? "";
  const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : (argv[i + 1] ?? "");
  const names = value.split(",").filter(Boolean);
  const unknown = names.filter((n) => !(TARGETS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    console.error(`error: --only takes a comma-separated list of: ${TARGETS.join(", ")}` + (unknown.length ? ` (unknown: ${unknown.join(", ")})` : ""));
    process.exit(2);
  }
  return names as Target[];
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

if (import.meta.main) {
  const failed: string[] = [];
  for (const target of parseOnly(process.argv.slice(2))) {
    const started = performance.now();
    try {
      const out = await buildTarget(target);
      const ms = Math.round(performance.now() - started);
      console.log(`${relative(process.cwd(), out) || out}  ${mib(statSync(out).size)}  (${ms} ms)`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      console.error(`error: building ${target} (bun-${target}): ${message}`);
      failed.push(target);
    }
  }
  if (failed.length > 0) {
    console.error(`error: ${failed.length} target(s) failed: ${failed.join(", ")}`);
    process.exit(1);
  }
}
