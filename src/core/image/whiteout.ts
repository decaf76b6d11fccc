/**
 * Whiteouts in their two forms. In an OCI layer tar, `dir/.wh.NAME` deletes `dir/NAME` from
 * the layers below and `dir/.wh..wh..opq` hides everything below `dir` that this layer does
 * not add. In an overlayfs upper directory, a deleted NAME is a character device 0/0 and an
 * opaque directory carries the xattr `trusted.overlay.opaque=y` (`user.overlay.opaque` when
 * the overlay is mounted with `userxattr`, as rootless overlay is).
 */
import type { BigIntStats } from "node:fs";

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_MARKER = ".wh..wh..opq";
export const OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";
export const OVERLAY_USER_OPAQUE_XATTR = "user.overlay.opaque";

/** overlayfs's own attributes, never copied into a layer. */
const OVERLAY_XATTR_PREFIXES = ["trusted.overlay.", "user.overlay."];

/** Attributes that mean an upper dir's file is not self-contained (redirects, metacopy). */
const OVERLAY_UNSUPPORTED = ["redirect", "metacopy"];

/** AUFS bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`) in old Docker layers: skipped, as containerd does. */
const AUFS_META_PREFIX = ".wh..wh.";

export type Whiteout = { kind: "opaque" } | { kind: "whiteout"; name: string } | { kind: "aufs-meta" } | undefined;

/** What a tar entry's base name says: an opaque marker, a whiteout of `name`, AUFS metadata, or nothing. */
export function parseWhiteout(base: string): Whiteout {
  if (base === OPAQUE_MARKER) return { kind: "opaque" };
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  if (base.startsWith(AUFS_META_PREFIX)) return { kind: "aufs-meta" };
  return { kind: "whiteout", name: base.slice(WHITEOUT_PREFIX.length) };
}

/** True for an overlayfs whiteout: a character device with device number 0/0. */
export function isOverlayWhiteout(st: BigIntStats): boolean {
  return st.isCharacterDevice() && st.rdev === 0n;
}

export function isOverlayXattr(name: string): boolean {
  return OVERLAY_XATTR_PREFIXES.some((p) => name.startsWith(p));
}

/** True when the value of an opaque xattr marks the directory opaque. */
export function isOpaqueValue(value: Uint8Array | undefined): boolean {
  return value !== undefined && value.length === 1 && value[0] === 0x79; // "y"
}

/** The overlay xattr among `names` that this writer cannot express in a tar, if any. */
export function unsupportedOverlayXattr(names: readonly string[]): string | undefined {
  return names.find((n) => isOverlayXattr(n) && OVERLAY_UNSUPPORTED.some((u) => n.endsWith(`.overlay.${u}`)));
}
