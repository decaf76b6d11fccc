// The step's own mounts, as runtime-spec mounts. A single bind (a host dir, secret or socket) is
// bound straight from its source; a tmpfs goes to the spec as is; anything else (overlay
// snapshots) is mounted on a host dir under the bundle first and bound from there. A selector
// picks a sub-path of the source, resolved inside it: a `..` or symlink that leaves it is refused.
import { lstatSync, mkdirSync } from "node:fs";
import { join, posix } from "node:path";
import { BuildkitError } from "../../../core/errors.ts";
import type { ExecMount } from "../../../core/worker/executor.ts";
import type { Mount } from "../../../core/worker/mount.ts";
import { mountAll } from "../sys/mount.ts";
import { unmountWithFallback } from "./cleanup.ts";
import type { Cleanup } from "./cleanup.ts";
import { resolveScoped } from "./scoped-path.ts";
import type { SpecMount } from "./spec.ts";

/** Options that say how to bind; everything else on a bind Mount (nosuid, …) is kept. */
const BIND_WORDS = new Set(["bind", "rbind", "ro", "rw"]);

/** A container path in normal form; `/` itself cannot be a step mount (that is the root). */
export function mountDestination(dest: string): string {
  const normal = posix.resolve("/", dest);
  if (normal === "/") throw new BuildkitError("InvalidArgument", `mounting ${JSON.stringify(dest)}: a mount cannot replace the root`);
  return normal;
}

function depth(path: string): number {
  return path.split("/").length;
}

/** Parents before children, otherwise in the given order. */
export function inMountOrder<T extends { readonly destination: string }>(mounts: readonly T[]): T[] {
  return [...mounts].sort((a, b) => depth(a.destination) - depth(b.destination));
}

/** The host path for selector inside base, refused when it leaves base or does not exist. */
export function selectPath(base: string, selector: string | undefined, dest: string): string {
  if (selector === undefined) return base;
  const selected = resolveScoped(base, selector);
  if (selected.escaped) {
    throw new BuildkitError("InvalidArgument", `mounting ${dest}: selector ${JSON.stringify(selector)} leads outside the mounted source`);
  }
  if (lstatSync(selected.path, { throwIfNoEntry: false }) === undefined) {
    throw new BuildkitError("NotFound", `mounting ${dest}: selector ${JSON.stringify(selector)} not found in the mounted source`);
  }
  return selected.path;
}

function isReadonly(mounts: readonly Mount[]): boolean {
  return mounts.some((m) => m.options.includes("ro"));
}

function tmpfsMount(em: ExecMount, m: Mount, dest: string): SpecMount {
  const options = m.options.filter((o) => o !== "ro" && o !== "rw");
  return { destination: dest, type: "tmpfs", source: m.source || "tmpfs", options: em.readonly || isReadonly([m]) ? [...options, "ro"] : options };
}

function bindMount(source: string, dest: string, readonly: boolean, extra: readonly string[]): SpecMount {
  return { destination: dest, type: "bind", source, options: ["rbind", readonly ? "ro" : "rw", ...extra] };
}

/** Mounts em's mounts on a new dir under hostDir, undone by cleanup; returns the dir. */
function mountOnHost(em: ExecMount, dir: string, cleanup: Cleanup): string {
  mkdirSync(dir, { recursive: true });
  mountAll(em.mounts, dir);
  cleanup.defer(() => unmountWithFallback(dir));
  return dir;
}

function toSpecMount(em: ExecMount, index: number, hostDir: string, cleanup: Cleanup): SpecMount {
  const dest = mountDestination(em.dest);
  const [first, ...rest] = em.mounts;
  if (first === undefined) throw new BuildkitError("InvalidArgument", `mounting ${dest}: no mounts given`);
  if (rest.length === 0 && first.type === "tmpfs") return tmpfsMount(em, first, dest);
  const readonly = em.readonly === true || isReadonly(em.mounts);
  if (rest.length === 0 && first.type === "bind") {
    const extra = first.options.filter((o) => !BIND_WORDS.has(o));
    return bindMount(selectPath(first.source, em.selector, dest), dest, readonly, extra);
  }
  const dir = mountOnHost(em, join(hostDir, String(index)), cleanup);
  return bindMount(selectPath(dir, em.selector, dest), dest, readonly, []);
}

/**
 * Spec mounts for the step's mounts, parents first. Host-side mounts are made under hostDir and
 * their unmounting is deferred to cleanup (also when a later mount fails).
 */
export function prepareExecMounts(mounts: readonly ExecMount[], hostDir: string, cleanup: Cleanup): SpecMount[] {
  return inMountOrder(mounts.map((em, i) => toSpecMount(em, i, hostDir, cleanup)));
}
