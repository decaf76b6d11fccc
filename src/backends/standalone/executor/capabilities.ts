// Linux capability sets for the runtime spec: containerd's (and BuildKit's) default set in
// sandbox mode, every capability this process holds in insecure mode. Both are limited to this
// process's bounding set, since runc cannot grant what it does not have.
import { readFileSync } from "node:fs";

/** Capability names by number (linux/capability.h). */
const CAP_NAMES = [
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
  "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
  "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
  "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
  "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
  "CHECKPOINT_RESTORE",
].map((name) => `CAP_${name}`);

const DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

/** The capabilities named by a hex mask as /proc/self/status prints it. */
export function capsFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return CAP_NAMES.filter((_, bit) => ((mask >> BigInt(bit)) & 1n) === 1n);
}

let bounding: readonly string[] | undefined;

/** This process's bounding set (read once). */
function boundingSet(): readonly string[] {
  if (bounding) return bounding;
  const status = readFileSync("/proc/self/status", "utf8");
  const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  bounding = hex === undefined ? CAP_NAMES : capsFromMask(hex);
  return bounding;
}

export function capabilitiesFor(security: "sandbox" | "insecure"): string[] {
  const held = boundingSet();
  return security === "insecure" ? [...held] : DEFAULT_CAPS.filter((cap) => held.includes(cap));
}
