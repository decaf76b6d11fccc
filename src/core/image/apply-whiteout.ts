/**
 * Applying a layer's whiteouts, in one of two modes:
 *
 * - overlay (`overlayWhiteouts`): the target is an empty overlayfs upper directory, so
 *   `.wh.NAME` becomes a character device 0/0 named NAME and `.wh..wh..opq` the xattr
 *   `trusted.overlay.opaque=y` on its directory; overlayfs hides the lower layers' entries.
 *   Needs CAP_MKNOD and CAP_SYS_ADMIN (trusted.* xattrs), i.e. root.
 * - delete (default): the target already holds the lower layers' view, so `.wh.NAME` removes
 *   NAME and `.wh..wh..opq` removes everything in its directory this layer did not itself
 *   create (whatever the entry order), as containerd's applier does.
 */
import { constants } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { BuildkitError } from "../errors.ts";
import { makeNode, setXattr } from "../fs/sys.ts";
import { lstatOrUndefined, removePath } from "./apply-entry.ts";
import type { ApplyContext } from "./apply-entry.ts";
import { splitEntryName } from "./entry-path.ts";
import { OVERLAY_OPAQUE_XATTR } from "./whiteout.ts";
import type { Whiteout } from "./whiteout.ts";

const OPAQUE_VALUE = new Uint8Array([0x79]); // "y"

/** Removes everything below `dir` that is not in ctx.created, descending into what is. */
async function pruneOpaque(ctx: ApplyContext, created: Set<string>, dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const host = `${dir}/${name}`;
    if (!created.has(host)) {
      await removePath(ctx, host);
      continue;
    }
    if ((await lstat(host)).isDirectory()) await pruneOpaque(ctx, created, host);
  }
}

async function opaque(ctx: ApplyContext, dirRel: string): Promise<void> {
  const dir = await ctx.resolver.ensure(dirRel);
  if (ctx.overlayWhiteouts) return setXattr(dir, OVERLAY_OPAQUE_XATTR, OPAQUE_VALUE);
  if (ctx.created !== undefined) await pruneOpaque(ctx, ctx.created, dir);
}

async function whiteout(ctx: ApplyContext, dirRel: string, name: string): Promise<void> {
  if (name === "" || name === "." || name === "..") {
    throw new BuildkitError("InvalidArgument", `invalid whiteout name ${JSON.stringify(name)}`);
  }
  if (ctx.overlayWhiteouts) {
    const dir = await ctx.resolver.ensure(dirRel);
    const host = `${dir === "/" ? "" : dir}/${name}`;
    if (lstatOrUndefined(host) !== undefined) await removePath(ctx, host);
    return makeNode(host, constants.S_IFCHR, 0n);
  }
  const host = await ctx.resolver.resolve(dirRel === "" ? name : `${dirRel}/${name}`);
  if (lstatOrUndefined(host) !== undefined) await removePath(ctx, host);
}

/** Applies the whiteout entry at the cleaned path `rel` (`dir/.wh.NAME` or `dir/.wh..wh..opq`). */
export async function applyWhiteout(ctx: ApplyContext, rel: string, wh: NonNullable<Whiteout>): Promise<void> {
  const { parent } = splitEntryName(rel);
  switch (wh.kind) {
    case "opaque":
      return opaque(ctx, parent);
    case "whiteout":
      return whiteout(ctx, parent, wh.name);
    case "aufs-meta":
      return;
    default: {
      const never: never = wh;
      throw new BuildkitError("Internal", `unknown whiteout ${JSON.stringify(never)}`);
    }
  }
}
