// `buildkit prune`: removes build cache records, as `buildctl prune` does, printing each as it
// goes and the total reclaimed. Takes the root lock, so it waits for a running build and a build
// started meanwhile waits for it.
import { defineCommand } from "./command.ts";
import type { PrunePolicy } from "../core/cache/prune.ts";
import { formatSize, parseDuration, parseSize } from "../core/cache/units.ts";
import type { UsageRecord } from "../core/cache/usage.ts";
import { BuildkitError } from "../core/errors.ts";
import { defaultRoot, repeatedFlag } from "./build-flags.ts";
import { remotePrune } from "../api/client/cache-calls.ts";
import { DAEMON_ARGS, remoteAddress, requireLinux } from "./daemon-flags.ts";
import { formatVerbose, onDaemon, PRUNE_ID_WIDTH, tableHeader, tableRow, usageFilters, withEngine } from "./du.ts";
import { UsageError } from "./exit.ts";
import { parseWorkerFlags, workerArgs } from "./worker-flags.ts";
import { stdoutStream } from "./stdout.ts";

export default defineCommand({
  meta: { name: "prune", description: "Remove build cache records that no build is using" },
  args: {
    all: { type: "boolean", description: "Include internal records (snapshots no cache record names)" },
    "keep-duration": { type: "string", description: "Keep records used within this time: 24h, 90m, 7d" },
    "keep-storage": { type: "string", description: "Keep this much, removing least recently used first: 10GB, 512MB (a bare number is MB)" },
    filter: { type: "string", alias: "f", description: "Remove only matching records: type==regular, id~=REGEXP, description~=TEXT, until=24h (repeatable)" },
    verbose: { type: "boolean", alias: "v", description: "Print every field of each removed record" },
    root: { type: "string", description: "State directory (default /var/lib/buildkit-ts as root, else the XDG data dir)" },
    ...DAEMON_ARGS,
    ...workerArgs,
  },
  async run({ args, rawArgs }) {
    const worker = parseWorkerFlags(args);
    const policy: PrunePolicy = {
      all: args.all === true,
      keepDuration: flagValue("--keep-duration", args["keep-duration"], parseDuration),
      keepStorage: flagValue("--keep-storage", args["keep-storage"], (v) => parseSize(v, 1e6)),
      filters: usageFilters(repeatedFlag(rawArgs, "filter", "f")),
    };
    const address = await remoteAddress(args);
    const now = Date.now();
    let first = true;
    const print = (r: UsageRecord) => {
      if (args.verbose) return void stdoutStream().write(formatVerbose(r, now));
      stdoutStream().write((first ? tableHeader(PRUNE_ID_WIDTH) : "") + tableRow(r, now, PRUNE_ID_WIDTH));
      first = false;
    };
    if (address !== undefined) {
      const keepStorage = typeof policy.keepStorage === "number" ? policy.keepStorage : undefined;
      const remote = { all: args.all === true, keepDuration: policy.keepDuration, keepStorage, filters: repeatedFlag(rawArgs, "filter", "f") };
      const reclaimed = await onDaemon(address, args, (channel) => remotePrune(channel, remote, print));
      stdoutStream().write(`Total:        ${formatSize(reclaimed)}\n`);
      return;
    }
    requireLinux("prune");
    const report = await withEngine(args.root ?? defaultRoot(), worker, (engine) => engine.prune(policy, { onRemoved: print }));
    // Blobs nothing names any more (layers of removed results, pushed images' manifests) and old traces count too.
    stdoutStream().write(`Total:        ${formatSize(report.reclaimed + (report.content?.bytes ?? 0) + (report.traces?.bytes ?? 0))}\n`);
  },
});

/** A parsed flag value; a bad one is a usage error (exit 2). */
function flagValue<T>(flag: string, value: string | undefined, parse: (v: string) => T): T | undefined {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch (err) {
    throw err instanceof BuildkitError && err.code === "InvalidArgument" ? new UsageError(`${flag}: ${err.message}`) : err;
  }
}
