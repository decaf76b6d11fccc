// The OCI runtime spec (config.json) for one process: containerd's default Unix spec as BuildKit
// uses it (no /run tmpfs, no default RLIMIT_NOFILE), plus the process, mounts, namespaces and
// security mode of the step.
import { BuildkitError } from "../../../core/errors.ts";
import type { ProcessMeta } from "../../../core/worker/executor.ts";
import { capabilitiesFor } from "./capabilities.ts";
import { listHostDevices } from "./devices.ts";
import type { LinuxDevice } from "./devices.ts";
import type { ResolvedUser } from "./user.ts";

export interface SpecMount {
  readonly destination: string;
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

interface Rlimit {
  readonly type: string;
  readonly soft: number;
  readonly hard: number;
}

interface DeviceRule {
  readonly allow: boolean;
  readonly access: string;
}

export interface RuntimeSpec {
  readonly ociVersion: string;
  readonly process: {
    readonly terminal: false;
    readonly user: { readonly uid: number; readonly gid: number; readonly additionalGids?: readonly number[] };
    readonly args: readonly string[];
    readonly env: readonly string[];
    readonly cwd: string;
    readonly capabilities: { readonly bounding: string[]; readonly effective: string[]; readonly permitted: string[] };
    readonly rlimits?: readonly Rlimit[];
    readonly noNewPrivileges: boolean;
  };
  readonly root: { readonly path: string; readonly readonly: boolean };
  readonly hostname: string;
  readonly mounts: readonly SpecMount[];
  readonly linux: {
    readonly namespaces: readonly { readonly type: string }[];
    readonly maskedPaths: readonly string[];
    readonly readonlyPaths: readonly string[];
    readonly resources: { readonly devices: readonly DeviceRule[] };
    readonly devices?: readonly LinuxDevice[];
  };
}

export interface SpecInput {
  readonly meta: ProcessMeta;
  readonly user: ResolvedUser;
  /** Host path of the rootfs, relative to the bundle or absolute. */
  readonly rootPath: string;
  readonly rootReadonly: boolean;
  readonly hostname: string;
  /** The step's own mounts (already in mount order), after the defaults. */
  readonly mounts: readonly SpecMount[];
}

export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const MASKED_PATHS = [
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/sys/devices/virtual/powercap", "/proc/scsi",
];
const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

const RLIMITS = new Set([
  "as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio",
  "rttime", "sigpending", "stack",
]);

function defaultMounts(security: ProcessMeta["security"]): SpecMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/sys",
      type: "sysfs",
      source: "sysfs",
      options: security === "insecure" ? ["nosuid", "noexec", "nodev"] : ["nosuid", "noexec", "nodev", "ro"],
    },
  ];
}

function namespaces(network: ProcessMeta["network"]): { type: string }[] {
  const list = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  switch (network) {
    // "sandbox" shares the host's network, as BuildKit's OCI worker does when no CNI network is
    // configured (its default "auto" mode falls back to host): steps can fetch what they need.
    case "host":
    case "sandbox":
      return list;
    case "none":
      return [...list, { type: "network" }];
    default: {
      const unknown: never = network;
      throw new BuildkitError("InvalidArgument", `making runtime spec: unknown network mode ${String(unknown)}`);
    }
  }
}

/** ulimits as runc rlimits; an unknown name is the user's mistake. */
export function rlimits(ulimits: ProcessMeta["ulimits"] = []): Rlimit[] {
  return ulimits.map(({ name, soft, hard }) => {
    if (!RLIMITS.has(name)) throw new BuildkitError("InvalidArgument", `setting ulimit ${name}: unknown ulimit name`);
    if (soft > hard) throw new BuildkitError("InvalidArgument", `setting ulimit ${name}: soft limit ${soft} is above hard limit ${hard}`);
    return { type: `RLIMIT_${name.toUpperCase()}`, soft, hard };
  });
}

function withDefaultPath(env: readonly string[]): readonly string[] {
  return env.some((e) => e.startsWith("PATH=")) ? env : [DEFAULT_PATH, ...env];
}

function linuxSection(meta: ProcessMeta): RuntimeSpec["linux"] {
  const insecure = meta.security === "insecure";
  return {
    namespaces: namespaces(meta.network),
    maskedPaths: insecure ? [] : MASKED_PATHS,
    readonlyPaths: insecure ? [] : READONLY_PATHS,
    resources: { devices: [{ allow: insecure, access: "rwm" }] },
    ...(insecure ? { devices: listHostDevices() } : {}),
  };
}

export function buildSpec(input: SpecInput): RuntimeSpec {
  const { meta, user } = input;
  if (meta.args.length === 0) throw new BuildkitError("InvalidArgument", "making runtime spec: no command to run");
  const caps = capabilitiesFor(meta.security);
  const limits = rlimits(meta.ulimits);
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length > 0 ? { additionalGids: user.additionalGids } : {}) },
      args: meta.args,
      env: withDefaultPath(meta.env),
      cwd: meta.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      ...(limits.length > 0 ? { rlimits: limits } : {}),
      noNewPrivileges: meta.security !== "insecure",
    },
    root: { path: input.rootPath, readonly: input.rootReadonly },
    hostname: input.hostname,
    mounts: [...defaultMounts(meta.security), ...input.mounts],
    linux: linuxSection(meta),
  };
}
