// A minimal rootfs from Debian's busybox-static: /bin/busybox with a symlink per applet, an
// /etc/passwd with root and nobody, an /etc/group (nobody is also in "users", for supplementary
// groups), /tmp, and the dirs runc mounts on (/proc, /dev, /sys).
import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const HOST_BUSYBOX = "/bin/busybox";

const PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP = "root:x:0:\nusers:x:100:nobody\nnogroup:x:65534:\n";

export function hasBusybox(): boolean {
  return existsSync(HOST_BUSYBOX);
}

/** The applet names of the host's busybox (`busybox --list`), without busybox itself. */
function applets(): string[] {
  const proc = Bun.spawnSync([HOST_BUSYBOX, "--list"], { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`listing busybox applets: ${proc.stderr.toString().trim()}`);
  return proc.stdout
    .toString()
    .split("\n")
    .map((name) => name.trim())
    .filter((name) => name !== "" && name !== "busybox" && !name.includes("/"));
}

/** Fills dir (made if missing) with the busybox rootfs. */
export function makeBusyboxRootfs(dir: string): void {
  for (const sub of ["bin", "etc", "root", "proc", "dev", "sys"]) mkdirSync(join(dir, sub), { recursive: true });
  mkdirSync(join(dir, "tmp"), { recursive: true });
  chmodSync(join(dir, "tmp"), 0o1777);
  copyFileSync(HOST_BUSYBOX, join(dir, "bin/busybox"));
  chmodSync(join(dir, "bin/busybox"), 0o755);
  for (const applet of applets()) symlinkSync("busybox", join(dir, "bin", applet));
  writeFileSync(join(dir, "etc/passwd"), PASSWD);
  writeFileSync(join(dir, "etc/group"), GROUP);
}
