// crun on hybrid cgroup hosts: the launcher that hides the cgroup v2 mount from crun, and only
// from it (the host's mount table is the same after).
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hideUnifiedLauncher, hybridWithV2Controllers, runtimeLauncher } from "../../../src/backends/standalone/executor/hybrid-cgroups.ts";

test("a v2 mount with a controller is what crun refuses; none or an empty list is not", () => {
  const dir = mkdtempSync(join(tmpdir(), "hybrid-cgroups-"));
  try {
    const file = join(dir, "cgroup.controllers");
    expect(hybridWithV2Controllers(file)).toBe(false);
    writeFileSync(file, "\n");
    expect(hybridWithV2Controllers(file)).toBe(false);
    writeFileSync(file, "hugetlb\n");
    expect(hybridWithV2Controllers(file)).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("runc is never launched through the wrapper", () => {
  expect(runtimeLauncher("/usr/sbin/runc")).toEqual([]);
});

test("the launcher runs its command in a private mount namespace without the v2 mount", async () => {
  const unshare = Bun.which("unshare");
  const umount = Bun.which("umount");
  if (process.getuid?.() !== 0 || !hybridWithV2Controllers() || !unshare || !umount) {
    console.log("skipping: needs root and a hybrid cgroup host (cgroup v2 with a controller at /sys/fs/cgroup/unified)");
    return;
  }
  const before = readFileSync("/proc/self/mounts", "utf8");
  const proc = Bun.spawn([...hideUnifiedLauncher(unshare, umount), "/bin/cat", "/proc/self/mounts"], { stdout: "pipe", stderr: "pipe" });
  const [inside, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(code).toBe(0);
  expect(before).toContain(" /sys/fs/cgroup/unified ");
  expect(inside).not.toContain(" /sys/fs/cgroup/unified ");
  expect(inside).toContain(" /sys/fs/cgroup/memory ");
  expect(readFileSync("/proc/self/mounts", "utf8")).toBe(before);
  expect(runtimeLauncher("/usr/bin/crun")).toEqual(hideUnifiedLauncher(unshare, umount));
});
