// crun on a hybrid cgroup host. crun refuses to start a container when the host mounts both
// cgroup v1 hierarchies and a cgroup v2 one at /sys/fs/cgroup/unified that holds a controller
// ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"); runc accepts
// such a host. Run in its own mount namespace where that v2 mount is gone, crun sees a plain
// cgroup v1 host and manages the container's cgroups there, as runc does with the v1
// controllers (the v2 hierarchy's controllers, hugetlb here, are then not set for the
// container; builds set none). The host's mounts are not changed: the unmount happens in a
// private copy of the mount table that lives only as long as that crun command.
import { readFileSync } from "node:fs";

const UNIFIED = "/sys/fs/cgroup/unified";

/** True when /sys/fs/cgroup/unified is a cgroup v2 mount holding a controller (crun's refusal). */
export function hybridWithV2Controllers(controllersFile = `${UNIFIED}/cgroup.controllers`): boolean {
  try {
    return readFileSync(controllersFile, "utf8").trim() !== "";
  } catch {
    return false; // not hybrid (unified v2 at /sys/fs/cgroup has no `unified/`, v1 only has none)
  }
}

/**
 * The argv prefix that runs a command in a private mount namespace without the v2 mount:
 * `unshare` (util-linux) makes the namespace with private propagation, so the `umount` inside
 * never reaches the host; `exec` then replaces the shell with the runtime.
 */
export function hideUnifiedLauncher(unshare: string, umount: string): readonly string[] {
  return [unshare, "--mount", "--propagation", "private", "--", "/bin/sh", "-c", `${umount} ${UNIFIED} && exec "$0" "$@"`];
}

let cached: readonly string[] | undefined;

/**
 * What an OCI runtime's commands are run under on this host: the launcher above for crun on a
 * hybrid host with a v2 controller (when unshare and umount are installed), nothing otherwise.
 * Host facts do not change while the process runs: found once.
 */
export function runtimeLauncher(runtimePath: string): readonly string[] {
  if (!/crun/.test(runtimePath.split("/").pop() ?? "")) return [];
  if (cached === undefined) {
    const unshare = Bun.which("unshare", { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" });
    const umount = Bun.which("umount", { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" });
    cached = hybridWithV2Controllers() && unshare && umount ? hideUnifiedLauncher(unshare, umount) : [];
  }
  return cached;
}
