// Control.ListWorkers: the daemon's workers, for `buildkit debug workers`.
import type { Channel } from "../grpc/client.ts";
import { ControlService } from "../grpc/services.ts";
import { GrpcError, toBuildkitError } from "../grpc/status.ts";

export interface RemoteWorker {
  readonly id: string;
  /** "os/arch[/variant]" */
  readonly platforms: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly version?: string;
}

export async function listWorkers(channel: Channel, filters: readonly string[] = []): Promise<RemoteWorker[]> {
  try {
    const res = await channel.unary(ControlService.methods.ListWorkers, { filter: [...filters] });
    return (res.record ?? []).map((w) => ({
      id: w.ID ?? "",
      platforms: (w.platforms ?? []).map((p) => [p.OS, p.Architecture, p.Variant].filter(Boolean).join("/")),
      labels: { ...(w.Labels ?? {}) },
      ...(w.BuildkitVersion?.version ? { version: w.BuildkitVersion.version } : {}),
    }));
  } catch (err) {
    throw err instanceof GrpcError ? toBuildkitError(err) : err;
  }
}

/** As `buildctl debug workers` prints them: ID and platforms, or every field with --verbose. */
export function formatWorkers(workers: readonly RemoteWorker[], verbose: boolean): string {
  if (!verbose) {
    const width = Math.max(2, ...workers.map((w) => w.id.length)) + 2;
    return `${"ID".padEnd(width)}PLATFORMS\n` + workers.map((w) => `${w.id.padEnd(width)}${w.platforms.join(",")}\n`).join("");
  }
  return workers
    .map((w) => {
      const labels = Object.keys(w.labels).sort().map((k) => `\t${k}:\t${w.labels[k]}\n`).join("");
      return `ID:\t\t${w.id}\nPlatforms:\t${w.platforms.join(",")}\n${w.version ? `BuildKit:\t${w.version}\n` : ""}Labels:\n${labels}\n`;
    })
    .join("");
}
