// The default OCI runtime's decision: crun when installed and its probe passed (remembered per
// fingerprint), runc otherwise, with one line saying why crun is not used.
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseRuntime, defaultRuntime, explainCrunFailure, hostRuntimeFacts } from "../../../src/backends/standalone/executor/oci-runtime.ts";
import type { RememberedProbe, RuntimeHost } from "../../../src/backends/standalone/executor/oci-runtime.ts";
import type { ProbeResult } from "../../../src/backends/standalone/executor/runtime-probe.ts";

const HYBRID = "crun: cgroups in hybrid mode not supported, drop all controllers from cgroupv2";

function fakeHost(opts: { crun?: string; result?: ProbeResult; remembered?: RememberedProbe; fingerprint?: string }) {
  const probes: string[] = [];
  let memo = opts.remembered;
  const host: RuntimeHost = {
    which: (name) => (name === "crun" ? opts.crun : "/usr/sbin/runc"),
    fingerprint: (path) => opts.fingerprint ?? `${path} v1`,
    recall: () => memo,
    remember: (r) => {
      memo = r;
    },
    probe: async (path) => {
      probes.push(path);
      return opts.result ?? { ok: true };
    },
  };
  return { host, probes, memo: () => memo };
}

test("no crun installed: runc, no probe, no notice", async () => {
  const f = fakeHost({});
  const notices: string[] = [];
  expect(await defaultRuntime(f.host, (l) => notices.push(l))).toEqual({ name: "runc" });
  expect(f.probes).toEqual([]);
  expect(notices).toEqual([]);
});

test("crun that runs a container is the default, and the verdict is remembered", async () => {
  const f = fakeHost({ crun: "/usr/bin/crun" });
  expect(await defaultRuntime(f.host, () => {})).toEqual({ name: "crun", path: "/usr/bin/crun" });
  expect(await defaultRuntime(f.host, () => {})).toEqual({ name: "crun", path: "/usr/bin/crun" });
  expect(f.probes).toEqual(["/usr/bin/crun"]);
  expect(f.memo()).toEqual({ fingerprint: "/usr/bin/crun v1", result: { ok: true } });
});

test("crun refusing hybrid cgroups: runc, one line naming the cause and the operator's option, once", async () => {
  const f = fakeHost({ crun: "/usr/bin/crun", result: { ok: false, error: HYBRID } });
  const notices: string[] = [];
  expect(await defaultRuntime(f.host, (l) => notices.push(l))).toEqual({ name: "runc" });
  expect(await defaultRuntime(f.host, (l) => notices.push(l))).toEqual({ name: "runc" });
  expect(f.probes).toHaveLength(1);
  expect(notices).toHaveLength(1);
  expect(notices[0]).not.toContain("\n");
  expect(notices[0]).toContain("hybrid cgroup layout");
  expect(notices[0]).toContain("mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb");
  expect(notices[0]).toContain("operator's call");
});

test("a changed fingerprint (new crun, new cgroup mounts) probes again", async () => {
  const f = fakeHost({ crun: "/usr/bin/crun", remembered: { fingerprint: "/usr/bin/crun old", result: { ok: false, error: HYBRID } } });
  expect(await defaultRuntime(f.host, () => {})).toEqual({ name: "crun", path: "/usr/bin/crun" });
  expect(f.probes).toHaveLength(1);
});

test("a remembered pass with the same fingerprint skips the probe", async () => {
  const f = fakeHost({ crun: "/usr/bin/crun", remembered: { fingerprint: "/usr/bin/crun v1", result: { ok: true } }, result: { ok: false, error: "x" } });
  expect(await defaultRuntime(f.host, () => {})).toEqual({ name: "crun", path: "/usr/bin/crun" });
  expect(f.probes).toEqual([]);
});

test("other crun failures say so in one line", () => {
  expect(explainCrunFailure("permission denied")).toBe("not using crun: it failed a trivial container on this host (permission denied); using runc");
});

test("an explicit choice is not probed: runc stays lazy, a missing path is FailedPrecondition", async () => {
  const f = fakeHost({ crun: "/usr/bin/crun", result: { ok: false, error: HYBRID } });
  expect(await chooseRuntime("runc", { root: "/nonexistent", host: f.host, onNotice: () => {} })).toEqual({ name: "runc" });
  expect(f.probes).toEqual([]);
  await expect(chooseRuntime("/no/such/crun", { root: "/nonexistent", host: f.host, onNotice: () => {} })).rejects.toThrow("crun not found at /no/such/crun");
});

test("a verdict is kept in the state root and for the host: a fresh state root recalls it", () => {
  const dir = mkdtempSync(join(tmpdir(), "buildkit-oci-runtime-"));
  try {
    const hostFile = join(dir, "run", "buildkit-ts", "oci-runtime.json");
    const [first, second] = [join(dir, "root1"), join(dir, "root2")];
    for (const root of [first, second]) mkdirSync(root);
    const verdict: RememberedProbe = { fingerprint: "/usr/bin/crun 1 2\ncgroup", result: { ok: false, error: HYBRID } };
    expect(hostRuntimeFacts(first, hostFile).recall()).toBeUndefined();
    hostRuntimeFacts(first, hostFile).remember(verdict);
    expect(hostRuntimeFacts(first, hostFile).recall()).toEqual(verdict);
    expect(hostRuntimeFacts(second, hostFile).recall()).toEqual(verdict);
    const own: RememberedProbe = { ...verdict, fingerprint: "other" };
    writeFileSync(join(second, "oci-runtime.json"), JSON.stringify(own));
    expect(hostRuntimeFacts(second, hostFile).recall()).toEqual(own);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
