/**
 * Entitlements, as BuildKit has them (util/entitlements, solver/llbsolver/vertex.go): an exec
 * step may run privileged (security=INSECURE) or in the host's network namespace (network=HOST)
 * only when the build was granted `security.insecure` / `network.host`, and a build may only be
 * granted what the daemon allows (`--allow-insecure-entitlement`). The messages are BuildKit's.
 */
import { BuildkitError, invalidArgument } from "../errors.ts";
import type { LoadedDefinition } from "../llb/definition.ts";
import type { pb } from "../pb/index.ts";
import { OPS_ENUMS } from "../pb/ops-schema.ts";

export const ENTITLEMENTS = ["security.insecure", "network.host"] as const;
export type Entitlement = (typeof ENTITLEMENTS)[number];

export function isEntitlement(s: string): s is Entitlement {
  return (ENTITLEMENTS as readonly string[]).includes(s);
}

export function parseEntitlement(s: string): Entitlement {
  if (!isEntitlement(s)) throw invalidArgument(`unknown entitlement ${s}`);
  return s;
}

/**
 * The entitlements a build gets: those it asked for (`--allow`), each of which the daemon must
 * allow. A daemonless build's "daemon" allows every entitlement: the user running it is the operator.
 */
export function grantEntitlements(requested: readonly string[], daemonAllowed: readonly Entitlement[]): ReadonlySet<Entitlement> {
  const granted = new Set<Entitlement>();
  for (const r of requested) {
    const e = parseEntitlement(r);
    if (!daemonAllowed.includes(e)) {
      throw new BuildkitError("FailedPrecondition", `granting entitlement ${e} is not allowed by build daemon configuration`);
    }
    granted.add(e);
  }
  return granted;
}

/** Refuses a definition whose exec steps need an entitlement the build was not granted; run before any work. */
export function validateEntitlements(def: LoadedDefinition, granted: ReadonlySet<Entitlement>): void {
  for (const { op } of def.ops.values()) {
    if (!op.exec) continue;
    if (op.exec.network === OPS_ENUMS.NetMode.HOST && !granted.has("network.host")) throw notAllowed("network.host");
    if (op.exec.security === OPS_ENUMS.SecurityMode.INSECURE && !granted.has("security.insecure")) throw notAllowed("security.insecure");
  }
}

function notAllowed(e: Entitlement): BuildkitError {
  return new BuildkitError("FailedPrecondition", `${e} is not allowed`);
}
