/**
 * The changes a layer holds, in tar order: a depth-first walk, each directory's entries sorted
 * by the bytes of their names (as Go's filepath.Walk), a directory before its contents and
 * its opaque marker right after it. This module walks an overlayfs upper directory, where
 * every entry is a change, a char device 0/0 a deletion and `trusted.overlay.opaque=y` (or
 * `user.overlay.opaque`) an opaque directory; layer-diff.ts compares two full trees.
 * Sockets are skipped, as containerd does. The tar exporter walks a result's tree with the
 * same walk as fsutil's Walk does (sockets kept, every xattr).
 */
import { lstat, readdir } from "node:fs/promises";
import type { BigIntStats } from "node:fs";
import { BuildkitError } from "../errors.ts";
import { getXattr, listXattrs } from "../fs/sys.ts";
import { isOpaqueValue, isOverlayWhiteout, isOverlayXattr, OVERLAY_OPAQUE_XATTR, OVERLAY_USER_OPAQUE_XATTR, unsupportedOverlayXattr } from "./whiteout.ts";

export type Xattrs = Array<[string, Uint8Array]>;

/** A path of the new tree that goes into the layer as it is. */
export interface AddChange {
  kind: "add";
  /** Root-relative, no leading "/". */
  rel: string;
  host: string;
  st: BigIntStats;
  xattrs: Xattrs;
}

/** `rel` was deleted (a `.wh.` entry) or is an opaque directory (a `.wh..wh..opq` entry in it). */
export interface MarkerChange {
  kind: "whiteout" | "opaque";
  rel: string;
}

export type LayerChange = AddChange | MarkerChange;

/** Attributes never copied into a layer: overlayfs's own, and host SELinux labels. */
function isLayerXattr(name: string): boolean {
  return !isOverlayXattr(name) && name !== "security.selinux";
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Directory entries sorted by the bytes of their names. */
export async function sortedNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort(byteOrder);
}

/** The layer-worthy xattrs of `host`, sorted by name. */
export function layerXattrs(host: string, names: readonly string[] = listXattrs(host)): Xattrs {
  const out: Xattrs = [];
  for (const name of [...names].filter(isLayerXattr).sort(byteOrder)) {
    const value = getXattr(host, name);
    if (value !== undefined) out.push([name, value]);
  }
  return out;
}

/** Every xattr of `host` that can be read, sorted by name (fsutil's loadXattr). */
function allXattrs(host: string, names: readonly string[]): Xattrs {
  const out: Xattrs = [];
  for (const name of [...names].sort(byteOrder)) {
    const value = getXattr(host, name);
    if (value !== undefined) out.push([name, value]);
  }
  return out;
}

export function joinRel(rel: string, name: string): string {
  return rel === "" ? name : `${rel}/${name}`;
}

function isOpaque(host: string, names: readonly string[]): boolean {
  return [OVERLAY_OPAQUE_XATTR, OVERLAY_USER_OPAQUE_XATTR].some((x) => names.includes(x) && isOpaqueValue(getXattr(host, x)));
}

/** How walkTree reads a tree. */
export interface TreeWalkOptions {
  /**
   * An overlayfs upper directory: whiteout devices and opaque xattrs are read as overlayfs
   * means them, and redirect/metacopy attributes (content elsewhere) refused.
   */
  readonly overlay: boolean;
  /**
   * "layer" (the default): sockets skipped and only layer-worthy xattrs, as containerd's diff
   * writer; "fsutil": every entry and every xattr, as fsutil's Walk hands them to WriteTar.
   */
  readonly mode?: "layer" | "fsutil";
}

/** Every entry below `host` as changes, their paths under `rel`. */
export async function* walkTree(rel: string, host: string, opts: TreeWalkOptions): AsyncGenerator<LayerChange> {
  const { overlay } = opts;
  const fsutil = opts.mode === "fsutil";
  for (const name of await sortedNames(host)) {
    const childRel = joinRel(rel, name);
    const childHost = `${host}/${name}`;
    const st = await lstat(childHost, { bigint: true });
    if (st.isSocket() && !fsutil) continue;
    if (overlay && isOverlayWhiteout(st)) {
      yield { kind: "whiteout", rel: childRel };
      continue;
    }
    const names = listXattrs(childHost);
    const unsupported = overlay ? unsupportedOverlayXattr(names) : undefined;
    if (unsupported !== undefined) {
      throw new BuildkitError("Unimplemented", `${childRel}: overlay attribute ${unsupported} is not supported`);
    }
    yield { kind: "add", rel: childRel, host: childHost, st, xattrs: fsutil ? allXattrs(childHost, names) : layerXattrs(childHost, names) };
    if (!st.isDirectory()) continue;
    if (overlay && isOpaque(childHost, names)) yield { kind: "opaque", rel: childRel };
    yield* walkTree(childRel, childHost, opts);
  }
}

/** The changes an overlayfs upper directory holds. */
export function walkUpper(upperDir: string): AsyncGenerator<LayerChange> {
  return walkTree("", upperDir, { overlay: true });
}
