// crun on hybrid cgroup hosts: the invocation that hides the cgroup v2 mount from crun, and only
// from it (the host's mount table is the same after).
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIRECT, hideUnifiedInvocation, hybridWithV2Controllers, runtimeArgv, runtimeInvocation } from "../../../src/backends/standalone/executor/hybrid-cgroups.ts";

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

test("runc is always run directly; flags go right after the binary", () => {
  expect(runtimeInvocation("/usr/sbin/runc")).toBe(DIRECT);
  expect(runtimeArgv(hideUnifiedInvocation("/usr/bin/unshare"), "/usr/bin/crun", ["--root", "S", "run", "x"])).toEqual([
    "/usr/bin/unshare",
    "--mount-proc=/sys/fs/cgroup/unified",
    "--propagation",
    "private",
    "--",
    "/usr/bin/crun",
    "--cgroup-manager=disabled",
    "--root",
    "S",
    "run",
    "x",
  ]);
});

test("the invocation's namespace has no cgroup v2 mount where crun looks, and the host keeps its own", async () => {
  const unshare = Bun.which("unshare");
  if (process.getuid?.() !== 0 || !hybridWithV2Controllers() || !unshare) {
    console.log("skipping: needs root and a hybrid cgroup host (cgroup v2 with a controller at /sys/fs/cgroup/unified)");
    return;
  }
  const before = readFileSync("/proc/self/mounts", "utf8");
  const how = hideUnifiedInvocation(unshare);
  const proc = Bun.spawn([...how.prefix, "/usr/bin/stat", "-f", "-c", "%T", "/sys/fs/cgroup/unified"], { stdout: "pipe", stderr: "pipe" });
  const [inside, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(code).toBe(0);
  expect(inside.trim()).toBe("proc");
  expect(before).toContain("cgroup2 /sys/fs/cgroup/unified ");
  expect(readFileSync("/proc/self/mounts", "utf8")).toBe(before);
  expect(runtimeInvocation("/usr/bin/crun")).toEqual(how);
});
