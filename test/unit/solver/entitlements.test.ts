import { describe, expect, test } from "bun:test";
import { sha256 } from "../../../src/core/digest.ts";
import { BuildkitError } from "../../../src/core/errors.ts";
import { loadDefinition } from "../../../src/core/llb/definition.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { ENTITLEMENTS, grantEntitlements, validateEntitlements } from "../../../src/core/solver/entitlements.ts";

const enc = (op: pb.Op.$Properties): Uint8Array => pb.Op.encode(op).finish();
const image = enc({ source: { identifier: "docker-image://docker.io/library/busybox:latest" } });

/** A definition of one exec step over busybox with the given network and security modes. */
function execDef(network: number, security: number) {
  const exec = enc({ inputs: [{ digest: sha256(image) }], exec: { meta: { args: ["true"] }, mounts: [{ input: 0, dest: "/", output: 0 }], network, security } });
  return loadDefinition(pb.Definition.encode({ def: [image, exec, enc({ inputs: [{ digest: sha256(exec) }] })] }).finish());
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BuildkitError);
    return (err as BuildkitError).message;
  }
  throw new Error("expected an error");
}

describe("validateEntitlements", () => {
  test("a sandboxed exec needs nothing", () => {
    validateEntitlements(execDef(pb.NetMode.UNSET, pb.SecurityMode.SANDBOX), new Set());
    validateEntitlements(execDef(pb.NetMode.NONE, pb.SecurityMode.SANDBOX), new Set());
  });

  test("network=HOST needs network.host, with BuildKit's wording", () => {
    const def = execDef(pb.NetMode.HOST, pb.SecurityMode.SANDBOX);
    expect(messageOf(() => validateEntitlements(def, new Set()))).toBe("network.host is not allowed");
    expect(messageOf(() => validateEntitlements(def, new Set(["security.insecure"])))).toBe("network.host is not allowed");
    validateEntitlements(def, new Set(["network.host"]));
  });

  test("security=INSECURE needs security.insecure", () => {
    const def = execDef(pb.NetMode.UNSET, pb.SecurityMode.INSECURE);
    expect(messageOf(() => validateEntitlements(def, new Set(["network.host"])))).toBe("security.insecure is not allowed");
    validateEntitlements(def, new Set(["security.insecure"]));
  });
});

describe("grantEntitlements", () => {
  test("grants what was asked and the daemon allows", () => {
    expect([...grantEntitlements(["network.host"], ENTITLEMENTS)]).toEqual(["network.host"]);
    expect([...grantEntitlements(["security.insecure", "network.host", "network.host"], ENTITLEMENTS)].sort()).toEqual(["network.host", "security.insecure"]);
    expect(grantEntitlements([], []).size).toBe(0);
  });

  test("refuses what the daemon does not allow, with BuildKit's wording", () => {
    expect(messageOf(() => grantEntitlements(["security.insecure"], ["network.host"]))).toBe(
      "granting entitlement security.insecure is not allowed by build daemon configuration",
    );
    expect(messageOf(() => grantEntitlements(["network.host"], []))).toBe("granting entitlement network.host is not allowed by build daemon configuration");
  });

  test("an unknown entitlement", () => {
    expect(messageOf(() => grantEntitlements(["root.everything"], ENTITLEMENTS))).toBe("unknown entitlement root.everything");
  });
});

describe("unknown enum values are rejected when the definition loads", () => {
  test("network and security modes", () => {
    expect(messageOf(() => execDef(7, 0))).toMatch(/^invalid definition: exec op sha256:[0-9a-f]+ has an unknown network mode 7$/);
    expect(messageOf(() => execDef(0, 2))).toMatch(/^invalid definition: exec op sha256:[0-9a-f]+ has an unknown security mode 2$/);
  });
});
