// `buildkit du`: the build cache's records and sizes, as `buildctl du` prints them. Opens the
// state the way a build does (the root lock), so it waits while a build runs.
import { defineCommand } from "./command.ts";
import { existsSync } from "node:fs";
import { createEngine, type Engine } from "../core/engine/index.ts";
import { formatAgo, formatSize } from "../core/cache/units.ts";
import { matchFilters, parseFilters, type UsageFilter } from "../core/cache/usage-filter.ts";
import type { UsageRecord } from "../core/cache/usage.ts";
import { BuildkitError } from "../core/errors.ts";
import { defaultRoot, repeatedFlag } from "./build-flags.ts";
import type { Channel } from "../api/grpc/client.ts";
import { remoteUsage } from "../api/client/cache-calls.ts";
import { DAEMON_ARGS, daemonError, openDaemon, remoteAddress, requireLinux, type DaemonArgs } from "./daemon-flags.ts";
import { UsageError } from "./exit.ts";
import { openWorker, parseWorkerFlags, workerArgs, type WorkerChoice } from "./worker-flags.ts";
import { stdoutStream } from "./stdout.ts";

export default defineCommand({
  meta: { name: "du", description: "Show disk usage of the build cache" },
  args: {
    filter: { type: "string", alias: "f", description: "Show only matching records: type==regular, id~=REGEXP, description~=TEXT, inuse, until=24h (repeatable)" },
    verbose: { type: "boolean", alias: "v", description: "Print every field of each record" },
    format: { type: "string", default: "table", description: "Output format: table or json" },
    root: { type: "string", description: "State directory (default /var/lib/buildkit-ts as root, else the XDG data dir)" },
    ...DAEMON_ARGS,
    ...workerArgs,
  },
  async run({ args, rawArgs }) {
    const worker = parseWorkerFlags(args);
    if (args.format !== "table" && args.format !== "json") throw new UsageError(`--format must be table or json, not "${args.format}"`);
    const filterFlags = repeatedFlag(rawArgs, "filter", "f");
    const filters = usageFilters(filterFlags);
    const now = Date.now();
    const address = await remoteAddress(args);
    if (address === undefined) requireLinux("du");
    const records =
      address === undefined
        ? (await localUsage(args.root ?? defaultRoot(), worker)).filter((r) => matchFilters(r, filters, now))
        : await onDaemon(address, args, (channel) => remoteUsage(channel, filterFlags));
    if (args.format === "json") return void stdoutStream().write(`${JSON.stringify(records, null, 2)}\n`);
    const body = args.verbose ? records.map((r) => formatVerbose(r, now)).join("") : formatTable(records, now);
    stdoutStream().write(body + formatSummary(records));
  },
});

/** The records of the state at root; a root that does not exist has none (and is not created). */
async function localUsage(root: string, worker: WorkerChoice): Promise<UsageRecord[]> {
  if (!existsSync(root)) return [];
  return withEngine(root, worker, (engine) => engine.usage());
}

/** Filter flags, bad ones as usage errors (exit 2). */
export function usageFilters(values: readonly string[]): UsageFilter[] {
  try {
    return parseFilters(values);
  } catch (err) {
    throw err instanceof BuildkitError && err.code === "InvalidArgument" ? new UsageError(err.message) : err;
  }
}

/**
 * Opens an engine on the state at root with the chosen worker (taking its lock: waits for a
 * running build), runs fn, and closes it.
 */
export async function withEngine<T>(root: string, choice: WorkerChoice, fn: (engine: Engine) => Promise<T>): Promise<T> {
  // Clean-up is what prune is for: it sweeps even after a clean close (as du does, with it).
  const { worker } = await openWorker(choice, { root, fullSweep: true, onWait: () => process.stderr.write(`waiting for a build to release ${root}\n`) });
  const engine = createEngine({ worker, config: { registry: noRegistry } });
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

/** Runs fn with a channel to the daemon at address, closed afterwards; failures name the daemon. */
export async function onDaemon<T>(address: string, args: DaemonArgs, fn: (channel: Channel) => Promise<T>): Promise<T> {
  let channel: Channel;
  try {
    channel = await openDaemon(address, args);
  } catch (err) {
    throw err instanceof BuildkitError && err.code === "InvalidArgument" ? new UsageError(err.message) : err;
  }
  try {
    return await fn(channel);
  } catch (err) {
    throw daemonError(address, err);
  } finally {
    await channel.close();
  }
}

/** du and prune pull nothing. */
async function noRegistry(): Promise<never> {
  throw new BuildkitError("Internal", "du and prune use no registry");
}

/** The ID column's least width: our result ids (result-<uuid>) fit. */
const ID_WIDTH = 46;
/** What prune, which prints rows as it goes, reserves: cache mount ids (64 hex digits) fit. */
export const PRUNE_ID_WIDTH = 64;

export function tableHeader(idWidth = ID_WIDTH): string {
  return `${"ID".padEnd(idWidth)}  RECLAIMABLE  ${"SIZE".padEnd(9)}  LAST ACCESSED\n`;
}

/** One row: the id, whether it can be removed, its size (`*` when shared), when last used. */
export function tableRow(r: UsageRecord, now: number, idWidth = ID_WIDTH): string {
  const size = `${formatSize(r.size)}${r.shared ? "*" : ""}`;
  const last = r.lastUsed === undefined ? "" : formatAgo(r.lastUsed, now);
  return `${r.id.padEnd(idWidth)}  ${String(!r.inUse).padEnd(11)}  ${size.padEnd(9)}  ${last}`.trimEnd() + "\n";
}

/** The table, its ID column as wide as the longest id (digests, image names), so columns stay aligned. */
export function formatTable(records: readonly UsageRecord[], now: number): string {
  const width = records.reduce((w, r) => Math.max(w, r.id.length), ID_WIDTH);
  return tableHeader(width) + records.map((r) => tableRow(r, now, width)).join("");
}

/** A block of `Key: value` lines and a blank line. */
export function formatVerbose(r: UsageRecord, now: number): string {
  const fields: [string, string | undefined][] = [
    ["ID", r.id],
    ["Parent", r.parent],
    ["Inputs", r.inputs.length > 0 ? r.inputs.join(", ") : undefined],
    ["Created at", new Date(r.created).toISOString()],
    ["Mutable", "false"],
    ["Reclaimable", String(!r.inUse)],
    ["Shared", String(r.shared)],
    ["Size", formatSize(r.size)],
    ["Description", r.description || undefined],
    ["Usage count", String(r.usageCount)],
    ["Last used", r.lastUsed === undefined ? undefined : formatAgo(r.lastUsed, now)],
    ["Type", r.type],
  ];
  return fields.flatMap(([k, v]) => (v === undefined ? [] : [`${`${k}:`.padEnd(14)}${v}\n`])).join("") + "\n";
}

/** Reclaimable (not in use) and total bytes. */
export function formatSummary(records: readonly UsageRecord[]): string {
  const total = records.reduce((sum, r) => sum + r.size, 0);
  const reclaimable = records.reduce((sum, r) => sum + (r.inUse ? 0 : r.size), 0);
  return `Reclaimable:  ${formatSize(reclaimable)}\nTotal:        ${formatSize(total)}\n`;
}
