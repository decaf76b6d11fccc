// `buildkit serve`: the daemon. One engine for the daemon's life behind BuildKit's gRPC Control
// API (and its LLBBridge gateway), on unix sockets and TLS TCP, driven by our client or by
// BuildKit's own buildctl.
import { defineCommand } from "./command.ts";
import { readFileSync } from "node:fs";
import { BuildkitError } from "../core/errors.ts";
import { ENTITLEMENTS, isEntitlement } from "../core/solver/entitlements.ts";
import type { RegistryClient } from "../core/registry/index.ts";
import { defaultRoot, repeatedFlag } from "./build-flags.ts";
import { oneLine, UsageError } from "./exit.ts";
import { debugLog } from "./log.ts";
import { readServeConfig, type ServeFileConfig } from "./serve-config.ts";
import { openWorker, parseWorkerFlags, workerArgs } from "./worker-flags.ts";
import { VERSION } from "./version.ts";

const DEFAULT_ADDRESS = "unix:///run/buildkit-ts/buildkitd.sock";
const DEFAULT_CONFIG = "/etc/buildkit/buildkitd.toml";

export default defineCommand({
  meta: { name: "serve", description: "Run the build daemon: BuildKit's gRPC API (Control, LLBBridge) on one long-lived engine" },
  args: {
    addr: { type: "string", description: `Listening address, repeatable: unix:///PATH or tcp://HOST:PORT (TLS) (default ${DEFAULT_ADDRESS})` },
    root: { type: "string", description: "State directory (default /var/lib/buildkit-ts as root, else the XDG data dir)" },
    config: { type: "string", description: `buildkitd.toml: root, [grpc] address and tls, insecure-entitlements, [worker.oci] gc/gckeepstorage, [registry."HOST"] (default ${DEFAULT_CONFIG} when present)` },
    tlscert: { type: "string", description: "Server certificate (PEM) for tcp:// addresses" },
    tlskey: { type: "string", description: "Server key (PEM) for tcp:// addresses" },
    tlscacert: { type: "string", description: "CA (PEM): clients must present a certificate it signed" },
    "insecure-tcp": { type: "boolean", description: "Allow tcp:// without TLS (anyone who can connect can run builds as this user)" },
    "allow-insecure-entitlement": { type: "string", description: "Let builds ask for this entitlement: security.insecure or network.host (repeatable)" },
    ...workerArgs,
  },
  async run({ args, rawArgs }) {
    const file = loadConfig(args.config);
    const addresses = [...repeatedFlag(rawArgs, "addr"), ...(repeatedFlag(rawArgs, "addr").length > 0 ? [] : file?.addresses ?? [])];
    if (addresses.length === 0) addresses.push(DEFAULT_ADDRESS);
    const tls = readTls({ cert: args.tlscert ?? file?.tls?.cert, key: args.tlskey ?? file?.tls?.key, ca: args.tlscacert ?? file?.tls?.ca });
    for (const a of addresses) checkAddress(a, tls !== undefined, args["insecure-tcp"] === true);
    const allowed = [...repeatedFlag(rawArgs, "allow-insecure-entitlement"), ...(file?.insecureEntitlements ?? [])].map((e) => {
      if (!isEntitlement(e)) throw new UsageError(`--allow-insecure-entitlement ${e}: unknown entitlement (known: ${ENTITLEMENTS.join(", ")})`);
      return e;
    });
    const root = args.root ?? file?.root ?? defaultRoot();
    const gcKeepStorage = file?.gc === false ? 0 : file?.gcKeepStorage;
    const workerChoice = parseWorkerFlags({ ...args, "oci-runtime": args["oci-runtime"] ?? file?.ociRuntime });

    const { createEngine } = await import("../core/engine/index.ts");
    const { createDaemon } = await import("../api/daemon.ts");
    const { createDaemonSessions } = await import("../api/session/daemon-sessions.ts");
    // A daemon starts rarely: it sweeps whatever earlier processes left, clean close or not.
    const { worker } = await openWorker(workerChoice, { root, fullSweep: true, onWait: () => process.stderr.write(`waiting for another process to release ${root}\n`) });
    const engine = createEngine({
      worker,
      config: {
        registry: registryClient(args.config ?? (file ? DEFAULT_CONFIG : undefined)),
        gcKeepStorage,
        onWarning: (what, err) => process.stderr.write(`warning: ${what}: ${oneLine(err)}\n`),
      },
    });
    const daemon = createDaemon({
      engine,
      sessions: createDaemonSessions({ root }),
      version: VERSION,
      allowedEntitlements: [...new Set(allowed)],
      gcKeepStorage,
      ...(file?.history ? { history: file.history } : {}),
    });
    const stopped = onStopSignals((signal) => daemon.shutdown(`the daemon got ${signal}`));
    try {
      for (const address of addresses) {
        const bound = await daemon.server.listen(address, { ...(tls && address.startsWith("tcp://") ? { tls } : {}), insecure: args["insecure-tcp"] === true });
        process.stderr.write(`serving on ${bound}\n`);
      }
    } catch (err) {
      await daemon.shutdown("start-up failed");
      throw err;
    }
    debugLog(`state directory ${root}, entitlements allowed: ${allowed.join(", ") || "none"}`);
    const signal = await stopped;
    process.stderr.write(`${signal}: stopped\n`);
  },
});

function loadConfig(path: string | undefined): ServeFileConfig | undefined {
  if (path !== undefined) return readServeConfig(path);
  try {
    return readServeConfig(DEFAULT_CONFIG);
  } catch {
    return undefined; // the default file is optional
  }
}

function readTls(paths: { cert?: string; key?: string; ca?: string }): { cert: string; key: string; ca?: string } | undefined {
  if (!paths.cert && !paths.key) {
    if (paths.ca) throw new UsageError("--tlscacert needs --tlscert and --tlskey");
    return undefined;
  }
  if (!paths.cert || !paths.key) throw new UsageError("--tlscert and --tlskey go together");
  const read = (flag: string, p: string) => {
    try {
      return readFileSync(p, "utf8");
    } catch (err) {
      throw new UsageError(`${flag} ${p}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : oneLine(err)}`);
    }
  };
  return { cert: read("--tlscert", paths.cert), key: read("--tlskey", paths.key), ...(paths.ca ? { ca: read("--tlscacert", paths.ca) } : {}) };
}

function checkAddress(address: string, tls: boolean, insecure: boolean): void {
  if (address.startsWith("unix://")) return;
  if (!address.startsWith("tcp://")) throw new UsageError(`--addr ${address}: expected unix:///PATH or tcp://HOST:PORT`);
  if (!tls && !insecure) throw new UsageError(`--addr ${address}: tcp needs --tlscert and --tlskey (or an explicit --insecure-tcp)`);
}

function registryClient(configPath: string | undefined): () => Promise<RegistryClient> {
  let client: Promise<RegistryClient> | undefined;
  return () =>
    (client ??= (async () => {
      const { createRegistryClient, loadRegistryConfig } = await import("../core/registry/index.ts");
      return createRegistryClient({ config: configPath ? await loadRegistryConfig(configPath) : undefined });
    })());
}

/**
 * Resolves with the signal's name once SIGINT, SIGTERM or SIGHUP has made the daemon shut down
 * (builds canceled, containers killed, mounts released); a second signal exits at once.
 */
function onStopSignals(shutdown: (signal: string) => Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write(`${signal}: canceling builds and shutting down\n`);
      shutdown(signal).then(
        () => resolve(signal),
        (err: unknown) => reject(new BuildkitError("Internal", `shutting down: ${oneLine(err)}`, { cause: err })),
      );
    };
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, handler);
  });
}
