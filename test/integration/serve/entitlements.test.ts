// Entitlements through the daemon, as BuildKit does them: a step asking for the host network
// runs only when the build asks for network.host (buildctl --allow) and the daemon was started
// with --allow-insecure-entitlement network.host.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LINUX_AMD64, local } from "../../../src/core/llb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { buildctlAvailable, ServeHarness } from "./daemon.ts";

const run = requireIntegration("serve entitlements", { runc: true, busybox: true }) && buildctlAvailable("serve entitlements");

const hostNetworkStep = () => local("rootfs").run({ args: ["true"], network: "host" }).root().marshal({ platform: LINUX_AMD64 });

describe.if(run)("entitlements through buildkit serve", () => {
  const strict = new ServeHarness();
  const lenient = new ServeHarness();
  beforeAll(async () => {
    await strict.start();
    await lenient.start(["--allow-insecure-entitlement", "network.host"]);
  });
  afterAll(async () => {
    await strict.cleanup();
    await lenient.cleanup();
  });

  test("a host-network step without --allow is refused", async () => {
    const r = await lenient.buildctl(["build", "--local", `rootfs=${lenient.rootfs}`], { stdin: hostNetworkStep() });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("network.host is not allowed");
  });

  test("--allow network.host on a daemon that does not allow it is refused", async () => {
    const r = await strict.buildctl(["build", "--allow", "network.host", "--local", `rootfs=${strict.rootfs}`], { stdin: hostNetworkStep() });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("granting entitlement network.host is not allowed by build daemon configuration");
  });

  test("--allow network.host on a daemon that allows it runs the step", async () => {
    const r = await lenient.buildctl(["build", "--allow", "network.host", "--local", `rootfs=${lenient.rootfs}`], { stdin: hostNetworkStep() });
    expect(r.stderr).not.toContain("not allowed");
    expect(r.code).toBe(0);
  });
});
