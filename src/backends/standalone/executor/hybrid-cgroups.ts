// crun on a hybrid cgroup host. crun refuses to start a container when the host mounts cgroup
// v1 hierarchies plus a cgroup v2 one at /sys/fs/cgroup/unified that holds a controller
// ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"), whatever its
// cgroup manager; runc accepts such a host.
//
// crun decides the host's mode from the file system type at /sys/fs/cgroup/unified. Run in a
// private mount namespace where a procfs covers that path (`unshare --mount-proc=PATH`: one
// exec, the mount gone with the namespace, the host's mount table untouched), it sees a v1
// host; with its cgroup manager disabled it then makes no cgroup of its own, so the
// container's processes stay in the caller's cgroups (limits set on the daemon hold for its
// builds) and nothing is left in any cgroup hierarchy. Builds set no cgroup resources, and
// the container is still stopped through its PID namespace (killing its init ends it).
// Hiding the v2 mount by unmounting it instead costs two more execs per command (a shell and
// umount), and crun in v1 mode then writes a directory per container into the host's
// /sys/fs/cgroup tmpfs under the unified mount point, never removed.
import { readFileSync } from "node:fs";
import { basename } from "node:path";

const UNIFIED = "/sys/fs/cgroup/unified";
const SYSTEM_PATH = "/usr/bin:/bin:/usr/sbin:/sbin";

/** True when /sys/fs/cgroup/unified is a cgroup v2 mount holding a controller (crun's refusal). */
export function hybridWithV2Controllers(controllersFile = `${UNIFIED}/cgroup.controllers`): boolean {
  try {
    return readFileSync(controllersFile, "utf8").trim() !== "";
  } catch {
    return false; // not hybrid (unified v2 at /sys/fs/cgroup has no `unified/`, v1 only has none)
  }
}

/** How a runtime's commands are run: argv before the binary, flags right after it. */
export interface RuntimeInvocation {
  readonly prefix: readonly string[];
  readonly flags: readonly string[];
}

export const DIRECT: RuntimeInvocation = { prefix: [], flags: [] };

/** crun in a namespace where a procfs covers the v2 mount, with no cgroup manager (see above). */
export function hideUnifiedInvocation(unshare: string): RuntimeInvocation {
  return { prefix: [unshare, `--mount-proc=${UNIFIED}`, "--propagation", "private", "--"], flags: ["--cgroup-manager=disabled"] };
}

let cached: RuntimeInvocation | undefined;

/**
 * How an OCI runtime is run on this host: crun on a hybrid host with a v2 controller through
 * hideUnifiedInvocation (when util-linux's unshare is installed), anything else directly.
 * Host facts do not change while the process runs: found once.
 */
export function runtimeInvocation(runtimePath: string): RuntimeInvocation {
  // Named as chooseRuntime and findOciRuntime tell crun from runc: by the binary's name.
  if (!basename(runtimePath).includes("crun")) return DIRECT;
  if (cached === undefined) {
    const unshare = Bun.which("unshare", { PATH: SYSTEM_PATH });
    cached = hybridWithV2Controllers() && unshare ? hideUnifiedInvocation(unshare) : DIRECT;
  }
  return cached;
}

/** The argv of one runtime command: `[...prefix, binary, ...flags, ...args]`. */
export function runtimeArgv(how: RuntimeInvocation, binary: string, args: readonly string[]): string[] {
  return [...how.prefix, binary, ...how.flags, ...args];
}
