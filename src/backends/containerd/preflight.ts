// Checks made when the worker opens, so a wrong setup fails at once with one clear line
// instead of in the middle of a build.
import { existsSync } from "node:fs";
import { BuildkitError } from "../../core/errors.ts";
import type { ContainerdClient } from "./client.ts";
import { SnapshotsService, VersionService } from "./services.ts";

/** Oldest containerd this backend is tested against (leases with expiry, snapshot labels, runc v2 shim). */
const MIN_VERSION: readonly [number, number] = [1, 6];

function parseVersion(v: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export async function preflight(client: ContainerdClient, snapshotter: string): Promise<{ version: string }> {
  if (!existsSync(client.address)) {
    throw new BuildkitError("Unavailable", `connecting to containerd: no socket at ${client.address} (is containerd running? --containerd-address)`);
  }
  const res = await client.unary("asking containerd its version", VersionService.methods.Version, {});
  const version = res.version ?? "";
  const parsed = parseVersion(version);
  if (parsed && (parsed[0] < MIN_VERSION[0] || (parsed[0] === MIN_VERSION[0] && parsed[1] < MIN_VERSION[1]))) {
    throw new BuildkitError("FailedPrecondition", `using containerd ${version} at ${client.address}: too old, ${MIN_VERSION.join(".")} or later is needed`);
  }
  try {
    await client.unary(`checking snapshotter ${snapshotter}`, SnapshotsService.methods.Stat, { snapshotter, key: "buildkit-ts-preflight" });
  } catch (err) {
    // containerd's own message: "snapshotter not loaded: NAME: invalid argument" for a wrong name.
    const cause = err instanceof BuildkitError && err.cause instanceof Error ? err.cause.message : "";
    if (err instanceof BuildkitError && err.code === "NotFound") return { version };
    if (/snapshotter not loaded/i.test(cause)) {
      throw new BuildkitError("FailedPrecondition", `using containerd at ${client.address}: snapshotter ${JSON.stringify(snapshotter)} is not loaded`, { cause: err });
    }
    throw err;
  }
  return { version };
}
