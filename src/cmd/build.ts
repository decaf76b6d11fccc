// `buildkit build`: reads a Definition (stdin or --file) and solves it in this process with
// the chosen worker (--worker), showing progress and writing a trace of every step.
import { defineCommand } from "./command.ts";
import { existsSync, fstatSync, readFileSync } from "node:fs";
import type { RegistryClient } from "../core/registry/index.ts";
import type { ContentStore } from "../core/worker/content-store.ts";
import { createEngine } from "../core/engine/index.ts";
import { localSession } from "../core/session/local.ts";
import { BuildkitError } from "../core/errors.ts";
import { EXPORTER_TYPES, loadExporter, parseOutputSpec, type ExporterInstance } from "../core/exporters/index.ts";
import { withFrontendEpoch } from "../core/exporters/spec.ts";
import { createProgressState } from "../core/progress/collector.ts";
import type { ProgressWriter } from "../core/progress/events.ts";
import { redactLogs, redactText } from "../core/progress/redact.ts";
import { tee } from "../core/progress/tee.ts";
import { createTraceWriter, defaultTracePath } from "../core/progress/trace.ts";
import { createPlainPrinter } from "../ui/plain.ts";
import { createRawJSONPrinter } from "../ui/rawjson.ts";
import { shouldUseTTY } from "../ui/tty-mode.ts";
import { safeLog, safeName } from "../ui/sanitize.ts";
import { checkOutputDests, defaultRoot, outputFilePath, parseLocals, parseOciLayouts, parseSecrets, parseSSH, readableFile, repeatedFlag } from "./build-flags.ts";
import { FRONTEND_ARGS, isControllerAttr, parseFrontendFlags, parseOptFlags, runFrontend } from "./frontend-flags.ts";
import { DAEMON_ARGS, remoteAddress, requireLinux } from "./daemon-flags.ts";
import { oneLine, UsageError } from "./exit.ts";
import { debugLog } from "./log.ts";
import { writeMetadataFile } from "./metadata-file.ts";
import { notice, responseNotice, setNoticeMode } from "./notice.ts";
import { openWorker, parseWorkerFlags, workerArgs } from "./worker-flags.ts";
import { parseSize } from "../core/cache/units.ts";
import { ENTITLEMENTS, grantEntitlements, type Entitlement } from "../core/solver/entitlements.ts";
import { parseCacheExportSpec, parseCacheImportSpec } from "../core/cache/remote/spec.ts";

const DEFAULT_CONFIG = "/etc/buildkit/buildkitd.toml";

/** How `--output` spells each exporter type, for --help (a type missing here still shows). */
const OUTPUT_FORMS: Readonly<Record<string, string>> = {
  local: "type=local,dest=DIR",
  tar: "type=tar,dest=FILE|-",
  image: "type=image[,name=HOST/REPO:TAG][,push=true][,registry.insecure=true][,annotation.K=V]",
  oci: "type=oci,dest=FILE",
  docker: "type=docker,dest=FILE",
};
const outputForm = (type: string): string => OUTPUT_FORMS[type] ?? `type=${type}`;
const PROGRESS_MODES = ["auto", "tty", "plain", "rawjson", "quiet"] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export default defineCommand({
  meta: { name: "build", description: "Build a definition read from stdin: in this process (daemonless), or on a daemon with --addr" },
  args: {
    file: { type: "string", alias: "f", description: "Read the definition from this file instead of stdin" },
    local: { type: "string", description: "A local directory for local sources: NAME=PATH (repeatable)" },
    "oci-layout": { type: "string", description: "An OCI layout directory for oci-layout:// sources and contexts: NAME=PATH (repeatable)" },
    output: { type: "string", alias: "o", description: `Export the result (repeatable): ${EXPORTER_TYPES.map(outputForm).join(" | ")}` },
    progress: { type: "string", default: "auto", description: "Progress display: auto, tty, plain, rawjson, quiet" },
    quiet: { type: "boolean", alias: "q", description: "Print nothing but errors (same as --progress quiet)" },
    "metadata-file": { type: "string", description: "Write the exporters' response (image digest, descriptor, local dest) to this file as JSON, as buildctl does" },
    cache: { type: "boolean", default: true, description: "Use cached results", negativeDescription: "Ignore cached results: run every step again (results are still cached for later builds)" },
    root: { type: "string", description: "State directory (default /var/lib/buildkit-ts as root, else the XDG data dir)" },
    secret: { type: "string", description: "A secret for steps: id=ID,src=PATH or id=ID,env=VAR (repeatable)" },
    ssh: { type: "string", description: "An ssh agent socket for steps: ID=SOCKET or default (repeatable)" },
    config: { type: "string", description: "buildkitd.toml with [registry.\"HOST\"] sections: http, insecure, mirrors, ca (default /etc/buildkit/buildkitd.toml when present)" },
    "export-cache": { type: "string", description: "Export the build cache: type=local,dest=DIR | type=registry,ref=HOST/REPO:TAG, with mode=min|max | type=inline (into the exported image's config) (repeatable)" },
    "import-cache": { type: "string", description: "Reuse an exported build cache: type=local,src=DIR | type=registry,ref=HOST/REPO:TAG (a cache, or an image with an inline cache) (repeatable)" },
    allow: { type: "string", description: "Grant an entitlement to the build: security.insecure or network.host (repeatable)" },
    "gc-keep-storage": { type: "string", description: "Garbage-collect the cache down to this size after the build (e.g. 10GB; 0 disables; default: buildkitd's policy, at most once a minute)" },
    ...FRONTEND_ARGS,
    ...workerArgs,
    "ignore-file": { type: "string", description: "With --addr: .dockerignore-style excludes for a local, applied before sending: NAME=FILE (repeatable)" },
    ...DAEMON_ARGS,
  },
  async run({ args, rawArgs }) {
    const mode = (args.quiet ? "quiet" : args.progress) as ProgressMode;
    if (!PROGRESS_MODES.includes(mode)) throw new UsageError(`--progress must be one of ${PROGRESS_MODES.join(", ")}, not "${args.progress}"`);
    setNoticeMode({ json: mode === "rawjson", quiet: mode === "quiet" });
    const address = await remoteAddress(args);
    if (address !== undefined) return (await import("./remote-build.ts")).runRemoteBuild(address, mode, args, rawArgs);
    if (repeatedFlag(rawArgs, "ignore-file").length > 0) throw new UsageError("--ignore-file is for builds on a daemon (--addr)");
    requireLinux("building");
    const metadataFile = outputFilePath("--metadata-file", args["metadata-file"]);
    const localDirs = parseLocals(repeatedFlag(rawArgs, "local"));
    const ociLayouts = parseOciLayouts(repeatedFlag(rawArgs, "oci-layout"));
    const secrets = parseSecrets(repeatedFlag(rawArgs, "secret"));
    const ssh = parseSSH(repeatedFlag(rawArgs, "ssh"));
    const workerChoice = parseWorkerFlags(args);
    if (args.config !== undefined) readableFile("--config", args.config);
    const registry = registryClient(args.config);
    checkOutputDests(repeatedFlag(rawArgs, "output", "o"));
    const frontend = parseFrontendFlags(args.frontend, repeatedFlag(rawArgs, "opt"), args.file);
    // attest:* is read as BuildKit's controller reads it, with or without a frontend.
    // (Its module loads only when asked: a cached build's start-up pays for nothing else.)
    const opts = parseOptFlags(repeatedFlag(rawArgs, "opt"));
    const { provenance, sbom: askedSBOM } = Object.keys(opts).some(isControllerAttr) ? (await import("../core/provenance/attestations.ts")).parseAttestations(opts) : {};
    // --no-cache is buildctl's no-cache="" (every stage): the scans ignore the cache too.
    const sbom = askedSBOM && !args.cache ? { ...askedSBOM, useCache: false } : askedSBOM;
    const exporters = await resolveExporters(repeatedFlag(rawArgs, "output", "o"), registry, frontend?.opts);
    const cacheExports = cacheFlags(repeatedFlag(rawArgs, "export-cache"), parseCacheExportSpec);
    const cacheImports = cacheFlags(repeatedFlag(rawArgs, "import-cache"), parseCacheImportSpec);
    // A frontend runs once the worker is open: its image lookups may read the worker's image store.
    const fileDefinition = frontend ? undefined : await readDefinition(args.file);
    const secretValues = await Promise.all([...secrets.values()].map(async (read) => new TextDecoder().decode(await read())));
    const root = args.root ?? defaultRoot();
    const gcKeep = gcLimit(args["gc-keep-storage"]);
    const entitlements = allowFlags(repeatedFlag(rawArgs, "allow"));

    const controller = new AbortController();
    const stop = onInterrupt(controller);
    const { worker, swept: sweptCounts } = await openWorker(workerChoice, {
      root,
      signal: controller.signal,
      // One build per process here: nothing else wants the thread while the results are synced.
      syncInThread: true,
      onWait: () => notice("waiting", `waiting for another build to release ${root}\n`, { root }),
      // Why the default runtime is runc here: information, not a problem (quiet leaves it out).
      onNotice: (line) => notice("info", `${line}\n`, { message: line }),
    });
    const swept = Object.entries(sweptCounts).filter(([, n]) => n > 0);
    if (swept.length) debugLog(`cleaned up after an earlier process: ${swept.map(([k, n]) => `${n} ${k}`).join(", ")}`);
    const tracePath = defaultTracePath(root);
    notice("trace", `trace: ${tracePath}\n`, { path: tracePath });
    if (mode === "quiet") debugLog(`trace: ${tracePath}`);
    const state = createProgressState({ logTailLines: 10 });
    const progress = redactLogs(
      tee(await display(mode), createTraceWriter(tracePath, { argv: process.argv, redact: (t) => redactText(t, secretValues) }), { write: (e) => state.apply(e), close: async () => {} }),
      secretValues,
    );
    // Garbage collection runs after the build; a failed collection does not fail it.
    const engine = createEngine({
      worker,
      config: { registry, gcKeepStorage: gcKeep, gcEveryBuild: gcKeep !== undefined, onWarning: (what, err) => notice("warning", `warning: ${what}: ${oneLine(err)}\n`, { warning: `${what}: ${oneLine(err)}` }) },
    });
    const session = localSession({ dirs: localDirs, secrets, ssh, stores: await layoutStores(ociLayouts) });
    let failure: unknown;
    let response: Record<string, string> = {};
    try {
      // The frontend, when there is one, runs inside the build: its vertices show, its failure is the build's.
      const made = frontend
        ? await runFrontend(frontend, { dirs: localDirs, registry, content: worker.content, root: worker.root, session, progress, signal: controller.signal })
        : { definition: fileDefinition!, platforms: undefined, metadata: undefined, origin: undefined, resolved: undefined, sbomExtras: undefined };
      const ctx = { session, progress, signal: controller.signal, entitlements };
      if ("forward" in made) {
        // A frontend image: it runs in a container here and drives the build over LLBBridge.
        const { buildWithFrontendImage } = await import("../api/gateway/frontends.ts");
        const { describeWorker } = await import("../api/control/workers.ts");
        const { VERSION } = await import("./version.ts");
        const asked = { name: frontend!.name, opts: frontend!.opts, inputs: {} };
        const deps = { engine, worker: describeWorker(engine, { version: VERSION }) };
        response = await buildWithFrontendImage(made.forward, asked, { exporters, cacheExports, provenance, sbom }, () => cacheImports, ctx, deps);
      } else {
        const { definition, platforms, metadata, origin, resolved, sbomExtras } = made;
        debugLog(`state directory ${root}, worker ${workerChoice.backend}, ${definition.byteLength} bytes of definition, progress ${mode}`);
        ({ exporterResponse: response } = await engine.solve(
          { ...(platforms ? { platforms } : { definition }), metadata, origin, sources: resolved, sbomExtras, exporters, noCache: !args.cache, cacheExports, cacheImports, provenance, sbom },
          ctx,
        ));
      }
    } catch (err) {
      failure = err;
    } finally {
      await progress.close(failure instanceof Error ? failure : undefined).catch(() => undefined);
      await engine.close();
      stop();
    }
    if (failure !== undefined) {
      // The interactive display already printed the failed step's full logs; rawjson has them as events.
      if (mode !== "rawjson" && !shouldUseTTY(mode, process.stderr, process.env)) printFailureTail(failure, state);
      throw failure;
    }
    if (metadataFile !== undefined) writeMetadataFile(metadataFile, response);
    responseNotice(response);
  },
});

/** `--oci-layout` directories as the content stores "oci:NAME" a remote client would serve (module loaded only when there are some). */
async function layoutStores(layouts: ReadonlyMap<string, string>): Promise<Map<string, ContentStore>> {
  const stores = new Map<string, ContentStore>();
  if (layouts.size === 0) return stores;
  const { layoutContentStore } = await import("../core/content/layout-store.ts");
  for (const [name, dir] of layouts) stores.set(`oci:${name}`, layoutContentStore(dir));
  return stores;
}

/** `--export-cache` / `--import-cache` values, parsed; a bad one is a usage error. */
function cacheFlags<T>(values: readonly string[], parse: (spec: string) => T): T[] {
  return values.map((v) => {
    try {
      return parse(v);
    } catch (err) {
      throw new UsageError(oneLine(err));
    }
  });
}

/** `--allow`: daemonless, this process is the daemon, and it allows every entitlement. */
function allowFlags(values: readonly string[]): ReadonlySet<Entitlement> {
  try {
    return grantEntitlements(values, ENTITLEMENTS);
  } catch (err) {
    throw new UsageError(`--allow: ${oneLine(err)}`);
  }
}

function gcLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseSize(value);
  } catch (err) {
    throw new UsageError(`--gc-keep-storage: ${oneLine(err)}`);
  }
}

/**
 * The registry client for image sources and pushes (buildkitd.toml settings, Docker's
 * credentials), loaded on first use: builds with no image need neither the module nor the file.
 */
function registryClient(configPath: string | undefined): () => Promise<RegistryClient> {
  let client: Promise<RegistryClient> | undefined;
  return () =>
    (client ??= (async () => {
      const { createRegistryClient, loadRegistryConfig } = await import("../core/registry/index.ts");
      const path = configPath ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
      return createRegistryClient({ config: path ? await loadRegistryConfig(path) : undefined });
    })());
}

/** Resolves (and so validates) every --output before the build starts; a frontend's SOURCE_DATE_EPOCH dates them. */
async function resolveExporters(specs: readonly string[], registry: () => Promise<RegistryClient>, frontendOpts: Readonly<Record<string, string>> | undefined): Promise<ExporterInstance[]> {
  const out: ExporterInstance[] = [];
  for (const spec of specs) {
    const { type, attrs } = parseOutputSpec(spec);
    const exporter = await loadExporter(type, { registry });
    if (!exporter) throw new UsageError(`--output type=${type}: unknown exporter (known: ${EXPORTER_TYPES.join(", ")})`);
    out.push(exporter.resolve(withFrontendEpoch(attrs, frontendOpts)));
  }
  return out;
}

/** The definition's bytes from --file or stdin; nothing at all is an error (exit 1), not an empty build. */
export async function readDefinition(file: string | undefined): Promise<Uint8Array> {
  if (file !== undefined && file !== "-") {
    const f = Bun.file(file);
    if (!(await f.exists())) throw new BuildkitError("NotFound", `reading definition: ${file} does not exist`);
    const bytes = new Uint8Array(await f.arrayBuffer());
    if (bytes.byteLength === 0) throw new BuildkitError("InvalidArgument", `reading definition: no definition: ${file} is empty`);
    return bytes;
  }
  if (await stdinIsTerminal()) throw new UsageError("no definition: pipe one on stdin or pass --file");
  const bytes = await readStdin();
  if (bytes.byteLength === 0) throw new BuildkitError("InvalidArgument", "reading definition: no definition: stdin is empty (pipe one in or pass --file)");
  return bytes;
}

/**
 * All of stdin. A blocking read: the build needs the whole definition before anything else, and
 * Bun.stdin's first asynchronous read costs ~5 ms of start-up here. A stdin left non-blocking
 * by whoever started us (EAGAIN) is read asynchronously instead.
 */
async function readStdin(): Promise<Uint8Array> {
  try {
    return new Uint8Array(readFileSync(0));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    return new Uint8Array(await Bun.stdin.arrayBuffer());
  }
}

/**
 * Whether stdin is a terminal, without making process.stdin: that node stream loads node:stream
 * (~4 ms), and a pipe or a file is never a terminal. Only a character device (a terminal,
 * /dev/null) is asked about with node:tty.
 */
async function stdinIsTerminal(): Promise<boolean> {
  let charDevice: boolean;
  try {
    charDevice = fstatSync(0).isCharacterDevice();
  } catch {
    return false; // closed: reading it fails with its own message
  }
  if (!charDevice) return false;
  return (await import("node:tty")).isatty(0);
}

/** Progress goes to stderr; stdout may carry a tar stream (--output type=tar,dest=-). */
export async function display(mode: ProgressMode): Promise<ProgressWriter> {
  const err = { write: (s: string) => void process.stderr.write(s) };
  switch (mode) {
    case "rawjson":
      return createRawJSONPrinter(err);
    case "quiet":
      return { write: () => {}, close: async () => {} };
    case "auto":
    case "tty":
      // The interactive tree on a terminal (TERM not dumb); plain lines otherwise.
      if (!shouldUseTTY(mode, process.stderr, process.env)) return createPlainPrinter(err);
      return (await import("../ui/tty.ts")).createTTYDisplay(process.stderr);
    case "plain":
      return createPlainPrinter(err);
    default: {
      const never: never = mode;
      throw new UsageError(`unknown progress mode ${String(never)}`);
    }
  }
}

/**
 * The first SIGINT, SIGTERM or SIGHUP (the terminal went away) cancels the build: containers
 * killed, mounts undone. A second exits at once.
 */
const CANCEL_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export function onInterrupt(controller: AbortController): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count > 1) process.exit(130);
    notice("signal", `\n${signal}: canceling the build\n`, { signal });
    controller.abort(new BuildkitError("Canceled", `build canceled by ${signal}`));
  };
  for (const signal of CANCEL_SIGNALS) process.on(signal, handler);
  return () => {
    for (const signal of CANCEL_SIGNALS) process.off(signal, handler);
  };
}

/** After a failed step, its last lines of output (plain mode showed them already inline). */
function printFailureTail(err: unknown, state: ReturnType<typeof createProgressState>): void {
  const digest = (err as { vertex?: string }).vertex;
  if (!digest) return;
  const v = state.get(digest as never);
  const tail = v?.logTail() ?? [];
  if (tail.length === 0) return;
  process.stderr.write(`\n------ ${safeName(v?.name ?? "")} (last ${tail.length} lines) ------\n${tail.map((l) => `  ${safeLog(l)}`).join("\n")}\n------\n`);
}
