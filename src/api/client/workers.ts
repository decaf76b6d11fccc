// Control.ListWorkers: the daemon's workers, for `buildkit debug workers`.
import type { Channel } from "../grpc/client.ts";
import { ControlService } from "../grpc/services.ts";
import { GrpcError, toBuildkitError } from "../grpc/status.ts";
import { formatBytesG } from "../../core/cache/units.ts";
import { goDuration } from "../../core/go-duration.ts";

/** One GC rule of a worker: durations in milliseconds, sizes in bytes (0: not set). */
export interface RemoteGCRule {
  readonly all: boolean;
  readonly filters: readonly string[];
  readonly keepDuration: number;
  /** v0.11's keepBytes. */
  readonly reservedSpace: number;
  readonly maxUsedSpace: number;
  readonly minFreeSpace: number;
}

export interface RemoteWorker {
  readonly id: string;
  /** "os/arch[/variant]" */
  readonly platforms: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** "package version revision", as buildctl prints it. */
  readonly version?: string;
  readonly gcPolicy: readonly RemoteGCRule[];
}

export async function listWorkers(channel: Channel, filters: readonly string[] = []): Promise<RemoteWorker[]> {
  try {
    const res = await channel.unary(ControlService.methods.ListWorkers, { filter: [...filters] });
    return (res.record ?? []).map((w) => ({
      id: w.ID ?? "",
      platforms: (w.platforms ?? []).map((p) => [p.OS, p.Architecture, p.Variant].filter(Boolean).join("/")),
      labels: { ...(w.Labels ?? {}) },
      ...(w.BuildkitVersion ? { version: [w.BuildkitVersion.package ?? "", w.BuildkitVersion.version ?? "", w.BuildkitVersion.revision ?? ""].join(" ") } : {}),
      gcPolicy: (w.GCPolicy ?? []).map((p) => ({
        all: p.all === true,
        filters: [...(p.filters ?? [])],
        keepDuration: Number(p.keepDuration ?? 0) / 1e6,
        reservedSpace: Number(p.keepBytes ?? 0),
        maxUsedSpace: Number(p.maxUsedSpace ?? 0),
        minFreeSpace: Number(p.minFreeSpace ?? 0),
      })),
    }));
  } catch (err) {
    throw err instanceof GrpcError ? toBuildkitError(err) : err;
  }
}

/** A worker's GC rules as current buildctl prints them under --verbose. */
function formatGCRules(rules: readonly RemoteGCRule[]): string {
  return rules
    .map((rule, i) => {
      let text = `GC Policy rule#${i}:\n\tAll:\t${rule.all}\n`;
      if (rule.filters.length > 0) text += `\tFilters:\t${rule.filters.join(" ")}\n`;
      if (rule.keepDuration > 0) text += `\tKeep duration:\t${goDuration(rule.keepDuration * 1e6)}\n`;
      if (rule.reservedSpace > 0) text += `\tReserved space:\t${formatBytesG(rule.reservedSpace)}\n`;
      if (rule.minFreeSpace > 0) text += `\tMinimum free space:\t${formatBytesG(rule.minFreeSpace)}\n`;
      if (rule.maxUsedSpace > 0) text += `\tMaximum used space:\t${formatBytesG(rule.maxUsedSpace)}\n`;
      return text;
    })
    .join("");
}

/** As `buildctl debug workers` prints them: ID and platforms, or every field (labels, GC rules) with --verbose. */
export function formatWorkers(workers: readonly RemoteWorker[], verbose: boolean): string {
  if (!verbose) {
    const width = Math.max(2, ...workers.map((w) => w.id.length)) + 2;
    return `${"ID".padEnd(width)}PLATFORMS\n` + workers.map((w) => `${w.id.padEnd(width)}${w.platforms.join(",")}\n`).join("");
  }
  return workers
    .map((w) => {
      const labels = Object.keys(w.labels).sort().map((k) => `\t${k}:\t${w.labels[k]}\n`).join("");
      return `ID:\t\t${w.id}\nPlatforms:\t${w.platforms.join(",")}\n${w.version ? `BuildKit:\t${w.version}\n` : ""}Labels:\n${labels}${formatGCRules(w.gcPolicy)}\n`;
    })
    .join("");
}
