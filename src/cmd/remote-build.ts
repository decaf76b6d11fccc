// `buildkit build --addr ADDR`: the same flags and displays as a daemonless build, solved by a
// daemon (ours or BuildKit's). Local directories, secrets and ssh agents are served to it over
// the session; outputs land on this machine (local, tar, oci, docker) or stay there (image).
import { readFileSync } from "node:fs";
import { sharedKey } from "../api/client/identity.ts";
import { parseRemoteOutputs, type RemoteOutput } from "../api/client/outputs.ts";
import { resolveClientPath, splitNamedPath } from "../api/client/client-paths.ts";
import { prepareLocalCaches } from "../api/client/local-caches.ts";
import { solveRemote, type CacheEntry } from "../api/client/solve.ts";
import type { SyncedDir } from "../api/session/filesync/provider.ts";
import { parseCachePairs } from "../core/cache/remote/spec.ts";
import { BuildkitError } from "../core/errors.ts";
import { parseDockerignore } from "../core/frontends/dockerfile/daemonless.ts";
import { createProgressState, type ProgressState } from "../core/progress/collector.ts";
import { redactLogs, redactText } from "../core/progress/redact.ts";
import { tee } from "../core/progress/tee.ts";
import { createTraceWriter, defaultTracePath } from "../core/progress/trace.ts";
import { shouldUseTTY } from "../ui/tty-mode.ts";
import { display, onInterrupt, readDefinition, type ProgressMode } from "./build.ts";
import { checkOutputDests, defaultRoot, outputFilePath, parseOciLayouts, parseSecrets, parseSSH, repeatedFlag } from "./build-flags.ts";
import { daemonError, openDaemon, type DaemonArgs } from "./daemon-flags.ts";
import { oneLine, UsageError } from "./exit.ts";
import { parseFrontendFlags, parseOptFlags } from "./frontend-flags.ts";
import { debugLog } from "./log.ts";
import { writeMetadataFile } from "./metadata-file.ts";
import { guardStdout } from "./stdout.ts";
import { notice, responseNotice } from "./notice.ts";

export interface RemoteBuildArgs extends DaemonArgs {
  readonly file?: string | undefined;
  readonly cache?: boolean | undefined;
  readonly root?: string | undefined;
  readonly config?: string | undefined;
  readonly "gc-keep-storage"?: string | undefined;
  readonly frontend?: string | undefined;
  readonly "metadata-file"?: string | undefined;
}

export async function runRemoteBuild(address: string, mode: ProgressMode, args: RemoteBuildArgs, rawArgs: readonly string[]): Promise<void> {
  guardStdout(); // --output dest=- streams through process.stdout
  if (args.config !== undefined) throw new UsageError("--config is for daemonless builds: the daemon reads its own buildkitd.toml");
  if (args["gc-keep-storage"] !== undefined) throw new UsageError("--gc-keep-storage is for daemonless builds: the daemon runs its own garbage collection");
  const metadataFile = outputFilePath("--metadata-file", args["metadata-file"]);
  const dirs = usage(() => localDirs(repeatedFlag(rawArgs, "local"), repeatedFlag(rawArgs, "ignore-file")));
  const ociLayouts = parseOciLayouts(repeatedFlag(rawArgs, "oci-layout"), (p) => resolveClientPath(p));
  checkOutputDests(repeatedFlag(rawArgs, "output", "o"));
  const output = usage(() => parseRemoteOutputs(repeatedFlag(rawArgs, "output", "o"), { resolvePath: (p) => resolveClientPath(p) }));
  const cacheExports = usage(() => repeatedFlag(rawArgs, "export-cache").map(cacheEntry("--export-cache")));
  const cacheImports = usage(() => repeatedFlag(rawArgs, "import-cache").map(cacheEntry("--import-cache")));
  const secrets = parseSecrets(repeatedFlag(rawArgs, "secret"));
  const ssh = parseSSH(repeatedFlag(rawArgs, "ssh"));
  const localCaches = await usageAsync(() => prepareLocalCaches(cacheExports, cacheImports, (m) => process.stderr.write(`WARNING: ${m}\n`)));
  const channel = await openDaemon(address, args).catch((err: unknown) => usage(() => {
    throw err;
  }));
  // With a frontend, the daemon runs it and reads the Dockerfile through the session, as BuildKit does.
  const frontend = parseFrontendFlags(args.frontend, repeatedFlag(rawArgs, "opt"), args.file);
  // Without a frontend, the attest:* options still go to the daemon (its controller reads them).
  const attrs = frontend ? undefined : parseOptFlags(repeatedFlag(rawArgs, "opt"));
  const definition = frontend ? new Uint8Array() : await readDefinition(args.file);
  const secretValues = await Promise.all([...secrets.values()].map(async (read) => new TextDecoder().decode(await read())));

  const tracePath = defaultTracePath(args.root ?? defaultRoot());
  notice("trace", `trace: ${tracePath}\n`, { path: tracePath });
  if (mode === "quiet") debugLog(`trace: ${tracePath}`);
  debugLog(`building on ${address}: ${definition.byteLength} bytes of definition, progress ${mode}`);
  const state = createProgressState({ logTailLines: 10 });
  const progress = redactLogs(
    tee(await display(mode), createTraceWriter(tracePath, { argv: process.argv, redact: (t) => redactText(t, secretValues) }), { write: (e) => state.apply(e), close: async () => {} }),
    secretValues,
  );
  const controller = new AbortController();
  const stop = onInterrupt(controller);
  let failure: unknown;
  let response: Record<string, string> = {};
  try {
    response = await solveRemote(channel, {
      definition,
      ...(frontend ? { frontend } : {}),
      ...(attrs && Object.keys(attrs).length > 0 ? { attrs } : {}),
      output,
      inputs: { dirs, secrets, ssh },
      sharedKey: sharedKey([...dirs.values()].map((d) => d.dir)),
      noCache: args.cache === false,
      cacheExports: localCaches.exports,
      cacheImports: localCaches.imports,
      localCaches,
      ociLayouts,
      progress,
      signal: controller.signal,
    });
  } catch (err) {
    failure = daemonError(address, err);
  } finally {
    await progress.close(failure instanceof Error ? failure : undefined).catch(() => undefined);
    await channel.close();
    stop();
  }
  if (failure !== undefined) {
    if (mode !== "rawjson" && !shouldUseTTY(mode, process.stderr, process.env)) printFailedVertex(state);
    throw failure;
  }
  // BuildKit's local exporter answers nothing; the dest is known here, as a daemonless build reports it.
  if (output?.type === "local" && output.target?.kind === "dir") response["local.dest"] ??= output.target.dir;
  if (metadataFile !== undefined) writeMetadataFile(metadataFile, response);
  responseNotice(response);
}

/** Bad flag values are usage errors (exit 2). */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof BuildkitError && err.code === "InvalidArgument") throw new UsageError(oneLine(err));
    throw err;
  }
}

async function usageAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof BuildkitError && (err.code === "InvalidArgument" || err.code === "NotFound")) throw new UsageError(oneLine(err));
    throw err;
  }
}

/** `--local NAME=DIR` with `--ignore-file NAME=FILE` (.dockerignore syntax) excludes, applied here. */
export function localDirs(locals: readonly string[], ignoreFiles: readonly string[]): Map<string, SyncedDir> {
  const excludes = new Map<string, string[]>();
  for (const v of ignoreFiles) {
    const { name, path } = splitNamedPath("--ignore-file", v);
    let text: string;
    try {
      text = readFileSync(resolveClientPath(path), "utf8");
    } catch (err) {
      throw new BuildkitError("InvalidArgument", `--ignore-file ${v}: ${oneLine(err)}`);
    }
    excludes.set(name, parseDockerignore(text));
  }
  const dirs = new Map<string, SyncedDir>();
  for (const v of locals) {
    const { name, path } = splitNamedPath("--local", v);
    if (dirs.has(name)) throw new BuildkitError("InvalidArgument", `--local ${name} given twice`);
    const ex = excludes.get(name);
    dirs.set(name, { dir: resolveClientPath(path), ...(ex ? { excludes: ex } : {}) });
  }
  const unknown = [...excludes.keys()].filter((n) => !dirs.has(n));
  if (unknown.length > 0) throw new BuildkitError("InvalidArgument", `--ignore-file ${unknown.join(", ")}: no --local by that name`);
  return dirs;
}

/** `type=registry,ref=…` as a Cache entry, split as the daemonless CLI splits it; the daemon checks the attributes. */
const cacheEntry = (flag: string) => (spec: string): CacheEntry => {
  const { type, ...attrs } = parseCachePairs(flag, spec);
  if (!type) throw new BuildkitError("InvalidArgument", `${flag} "${spec}": type is required`);
  return { type, attrs };
};

/** After a failure without the interactive display: the failed step's last lines. */
function printFailedVertex(state: ProgressState): void {
  const failed = state.vertices().filter((v) => v.error !== undefined && !v.canceled).at(-1);
  const tail = failed?.logTail() ?? [];
  if (!failed || tail.length === 0) return;
  process.stderr.write(`\n------ ${failed.name} (last ${tail.length} lines) ------\n${tail.map((l) => `  ${l}`).join("\n")}\n------\n`);
}

export type { RemoteOutput };
