// Entitlements end to end: privileged and host-network steps need `--allow`, as with buildctl.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "./harness.ts";

const run = requireIntegration("entitlement tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeAll(() => {
  if (run) h = new BuildHarness();
});
afterAll(() => h?.cleanup());

describe.skipIf(!run)("entitlements", () => {
  test("security=insecure is refused without --allow security.insecure, before any step runs", async () => {
    const def = h.base().run({ args: ["sh", "-c", "echo privileged"], security: "insecure" }).root();
    const refused = await h.build(def);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("error: security.insecure is not allowed\n");
    expect(refused.stderr).not.toContain("privileged");
    const allowed = await h.build(def, ["--allow", "security.insecure"]);
    expect(allowed.stderr).toContain("privileged");
    expect(allowed.code).toBe(0);
  });

  test("network=host is refused without --allow network.host; --allow is repeatable", async () => {
    const def = h.base().run({ args: ["sh", "-c", "echo on-host"], network: "host" }).root();
    const refused = await h.build(def, ["--allow", "security.insecure"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("error: network.host is not allowed\n");
    const allowed = await h.build(def, ["--allow", "security.insecure", "--allow=network.host"]);
    expect(allowed.code).toBe(0);
  });

  test("an unknown entitlement is a usage error", async () => {
    const r = await h.build(h.base(), ["--allow", "everything"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: --allow: unknown entitlement everything\n");
  });
});
