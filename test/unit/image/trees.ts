// The trees the round-trip tests share: an overlay upper directory with every kind of entry,
// a lower tree it applies onto, and a changed copy of that lower tree for the diff mode.
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimes } from "../../../src/core/fs/sys.ts";
import { build, isRoot } from "./fixtures.ts";
import type { Meta, Node } from "./fixtures.ts";

const T = 1_700_000_000_123_456_789n;
const SEC = 1_600_000_000_000_000_000n; // whole seconds: no PAX mtime needed
const owner = (uid: number, gid: number): Meta => (isRoot ? { uid, gid } : {});

/** 3 MiB of random bytes: crosses compression chunk boundaries. */
export const BIG = randomBytes(3 * 1024 * 1024 + 123);

const LONG = `long/${"d".repeat(120)}/${"f".repeat(150)}`;

/** Entries without whiteouts: what GNU tar can round-trip too. */
export function plainEntries(): Record<string, Node & Meta> {
  return {
    "etc/": { dir: true, mtimeNs: T },
    "etc/conf": { file: "a=1\n", mode: 0o640, ...owner(1000, 2000), mtimeNs: T + 1n, xattrs: { "user.note": "hello" } },
    "etc/setuid": { file: "x", mode: 0o4755, mtimeNs: SEC },
    "bin/": { dir: true, mode: 0o750, ...owner(0, 10), mtimeNs: T + 5n },
    "bin/tool": { file: "#!/bin/sh\n", mode: 0o755, mtimeNs: T + 3n },
    "bin/tool-link": { hardlink: "bin/tool" },
    "bin/sh": { symlink: "/bin/busybox", ...owner(1000, 1000), mtimeNs: T + 2n },
    "bin/rel": { symlink: "../etc/conf", mtimeNs: SEC },
    "sticky/": { dir: true, mode: 0o1777, mtimeNs: SEC },
    fifo: { fifo: true, mtimeNs: T },
    [LONG]: { file: "long", mtimeNs: T },
    "unicodé/naïve ☃": { file: "snow", mtimeNs: T },
    empty: { file: "", mtimeNs: SEC },
    big: { file: "", mtimeNs: T - 7n },
  };
}

/** plainEntries with `big` filled in (build() takes strings). */
export function buildPlain(root: string, entries = plainEntries()): void {
  build(root, entries);
  writeBig(root, "big", T - 7n);
}

export function writeBig(root: string, rel: string, mtimeNs: bigint): void {
  writeFileSync(join(root, rel), BIG);
  chmodSync(join(root, rel), 0o644);
  setTimes(join(root, rel), mtimeNs, mtimeNs);
}

/** An overlay upper dir: plain entries plus whiteouts and an opaque dir (needs root). */
export function buildUpper(root: string): void {
  buildPlain(root, {
    ...plainEntries(),
    gone: { whiteout: true },
    "gonedir": { whiteout: true },
    "etc/old": { whiteout: true },
    "opq/": { dir: true, xattrs: { "trusted.overlay.opaque": "y" }, mtimeNs: T },
    "opq/new": { file: "new", mtimeNs: T },
    "opq/sub/": { dir: true, mtimeNs: T },
    "opq/sub/kept": { file: "k", mtimeNs: T },
  });
  setTimes(join(root, "etc"), T, T); // whiteouts touched it
}

/** The tree buildUpper applies onto in delete mode. */
export function buildLower(root: string): void {
  build(root, {
    keep: { file: "keep", mtimeNs: T },
    gone: { file: "gone", mtimeNs: T },
    "gonedir/x/y": { file: "y", mtimeNs: T },
    "etc/": { dir: true, mode: 0o700, mtimeNs: SEC },
    "etc/old": { file: "old", mtimeNs: T },
    "etc/conf": { file: "old conf", mtimeNs: T },
    "etc/stays": { file: "stays", mtimeNs: T },
    "opq/": { dir: true, mtimeNs: T },
    "opq/old": { file: "old", mtimeNs: T },
    "opq/sub/": { dir: true, mtimeNs: T },
    "opq/sub/lower": { file: "lower", mtimeNs: T },
    "opq/olddir/z": { file: "z", mtimeNs: T },
    "same-secs": { file: "aaaa", mtimeNs: SEC },
    "same-ns": { file: "cccc", mtimeNs: T },
    "dir-to-file/": { dir: true, mtimeNs: T },
    "dir-to-file/child": { file: "c", mtimeNs: T },
    "file-to-dir": { file: "f", mtimeNs: T },
    "deep/a/b/": { dir: true, mtimeNs: T },
    "deep/a/b/c": { file: "c", mtimeNs: T },
  });
}

/**
 * `root` (a copy of the lower tree) changed: deletions, additions, a same-size same-second
 * content change only a byte compare finds, type changes, and a change deep in unchanged dirs.
 */
export function changeLower(root: string): void {
  rmSync(join(root, "gone"));
  rmSync(join(root, "gonedir"), { recursive: true });
  rmSync(join(root, "dir-to-file"), { recursive: true });
  rmSync(join(root, "file-to-dir"));
  build(root, {
    "same-secs": { file: "bbbb", mtimeNs: SEC },
    "dir-to-file": { file: "now a file", mtimeNs: T },
    "file-to-dir/": { dir: true, mtimeNs: T },
    "file-to-dir/x": { file: "x", mtimeNs: T },
    "deep/a/b/d": { file: "new", mtimeNs: T },
    "added/": { dir: true, mtimeNs: T },
    "added/f": { file: "shared", mtimeNs: T },
    "added/g": { hardlink: "added/f" },
  });
  mkdirSync(join(root, "etc/sub"));
  setTimes(join(root, "etc/sub"), T, T);
  chmodSync(join(root, "etc"), 0o755);
  for (const dir of ["", "deep/a/b", "etc"]) setTimes(join(root, dir), T, T);
}
