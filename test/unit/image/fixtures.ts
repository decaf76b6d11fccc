// Helpers for the layer tests: temp dirs, trees with exact metadata, tree snapshots to compare,
// tars built with tar-stream (for hostile archives), and running system tools on blobs.
import { createHash } from "node:crypto";
import { chmodSync, lchownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import type { BigIntStats } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pack } from "tar-stream";
import type { Header } from "tar-stream";
import { expect } from "bun:test";
import { BuildkitError } from "../../../src/core/errors.ts";
import type { ErrorCode } from "../../../src/core/errors.ts";
import { getXattr, listXattrs, makeNode, setTimes, setXattr } from "../../../src/core/fs/sys.ts";

export const isRoot = process.getuid?.() === 0;
const made: string[] = [];

export function tempDir(name = "layer"): string {
  const dir = mkdtempSync(join(tmpdir(), `bk-image-${name}-`));
  made.push(dir);
  return dir;
}

export function cleanup(): void {
  for (const dir of made.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      Bun.spawnSync(["chmod", "-R", "u+rwX", dir]); // read-only dirs a test made, when not root
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** A target directory alone inside a sentinel parent, to prove nothing lands beside it. */
export function sandbox(): { parent: string; target: string } {
  const parent = tempDir("sandbox");
  const target = join(parent, "target");
  mkdirSync(target);
  return { parent, target };
}

export function expectOnlyTarget(parent: string): void {
  expect(readdirSync(parent)).toEqual(["target"]);
}

export type Node =
  | { dir: true; mode?: number; xattrs?: Record<string, string> }
  | { file: string; mode?: number; xattrs?: Record<string, string> }
  | { symlink: string }
  | { hardlink: string }
  | { fifo: true }
  | { whiteout: true };

export interface Meta {
  uid?: number;
  gid?: number;
  mtimeNs?: bigint;
}

/** The time of every path a tree does not give one. */
export const FIXED_NS = 1_234_567_890_987_654_321n;

const enc = (s: string) => new TextEncoder().encode(s);

/** Builds a tree; entries are created in order, then owners and times are set deepest first. */
export function build(root: string, entries: Record<string, Node & Meta>): void {
  for (const [rel, node] of Object.entries(entries)) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    if ("dir" in node) mkdirSync(path, { recursive: true, mode: node.mode ?? 0o755 });
    else if ("file" in node) writeFileSync(path, node.file, { mode: node.mode ?? 0o644 });
    else if ("symlink" in node) symlinkSync(node.symlink, path);
    else if ("hardlink" in node) linkSync(join(root, node.hardlink), path);
    else if ("fifo" in node) makeNode(path, 0o010644, 0n);
    else makeNode(path, 0o020000, 0n);
    if (("dir" in node || "file" in node) && node.xattrs) {
      for (const [k, v] of Object.entries(node.xattrs)) setXattr(path, k, enc(v));
    }
  }
  const all: Record<string, Node & Meta> = {};
  for (const rel of Object.keys(entries)) {
    for (let p = dirname(rel.replace(/\/$/, "")); p !== "."; p = dirname(p)) all[`${p}/`] ??= { dir: true, mtimeNs: FIXED_NS };
  }
  for (const key of Object.keys(entries)) delete all[key];
  Object.assign(all, entries);
  const depth = (rel: string) => rel.replace(/\/$/, "").split("/").length;
  const ordered = Object.entries(all).sort(([a], [b]) => depth(b) - depth(a));
  for (const [rel, node] of ordered) {
    const path = join(root, rel);
    if (isRoot && (node.uid !== undefined || node.gid !== undefined)) lchownSync(path, node.uid ?? 0, node.gid ?? 0);
    if ("dir" in node) chmodSync(path, node.mode ?? 0o755);
    if ("file" in node) chmodSync(path, node.mode ?? 0o644);
    if ("hardlink" in node && node.mtimeNs === undefined) continue; // its inode has a time
    const mtimeNs = node.mtimeNs ?? FIXED_NS;
    setTimes(path, mtimeNs, mtimeNs);
  }
}

export interface Snap {
  type: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Whole seconds: layers carry no more (BuildKit's writer truncates, and so does ours). */
  mtime?: string;
  content?: string;
  target?: string;
  linkOf?: string;
  xattrs?: Record<string, string>;
}

/** Everything a layer must carry about each path below `root` (not the root itself). */
export function snapshot(root: string): Record<string, Snap> {
  const out: Record<string, Snap> = {};
  const inodes = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const path = join(root, r);
      const st = lstatSync(path, { bigint: true });
      if (st.isCharacterDevice() && st.rdev === 0n) {
        out[r] = { type: "whiteout" };
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      const first = st.isDirectory() ? undefined : inodes.get(key);
      if (first !== undefined) {
        out[r] = { type: "hardlink", linkOf: first };
        continue;
      }
      inodes.set(key, r);
      const s: Snap = { type: typeName(st), uid: Number(st.uid), gid: Number(st.gid), mtime: String(st.mtimeNs / 1_000_000_000n) };
      if (!st.isSymbolicLink()) s.mode = Number(st.mode & 0o7777n);
      if (st.isFile()) s.content = createHash("sha256").update(readFileSync(path)).digest("hex");
      if (st.isSymbolicLink()) s.target = readlinkSync(path);
      const xattrs = Object.fromEntries(listXattrs(path).sort().map((n) => [n, new TextDecoder().decode(getXattr(path, n))]));
      if (Object.keys(xattrs).length > 0) s.xattrs = xattrs;
      out[r] = s;
      if (st.isDirectory()) walk(r);
    }
  };
  walk("");
  return out;
}

function typeName(st: BigIntStats): string {
  if (st.isDirectory()) return "dir";
  if (st.isFile()) return "file";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFIFO()) return "fifo";
  if (st.isCharacterDevice()) return "char";
  return "other";
}

/** The view a delete-mode apply of `upper` (an overlay upper snapshot) onto `lower` must give. */
export function merged(lower: Record<string, Snap>, upper: Record<string, Snap>): Record<string, Snap> {
  const out = { ...lower };
  const drop = (prefix: string, self: boolean) => {
    for (const k of Object.keys(out)) if ((self && k === prefix) || k.startsWith(`${prefix}/`)) delete out[k];
  };
  for (const [rel, s] of Object.entries(upper)) {
    if (s.type === "whiteout") drop(rel, true);
    else if (s.xattrs?.["trusted.overlay.opaque"] === "y") drop(rel, false);
  }
  for (const [rel, s] of Object.entries(upper)) {
    if (s.type === "whiteout") continue;
    const copy = { ...s };
    if (copy.xattrs) {
      const { ["trusted.overlay.opaque"]: _, ...rest } = copy.xattrs;
      if (Object.keys(rest).length > 0) copy.xattrs = rest;
      else delete copy.xattrs;
    }
    out[rel] = copy;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export type TarItem = { header: Partial<Header> & { name: string }; content?: string | Uint8Array };

/** A tar archive made by tar-stream (which writes whatever names it is given). */
export async function makeTar(items: readonly TarItem[]): Promise<Uint8Array> {
  const p = pack();
  for (const { header, content } of items) {
    const h = { mtime: new Date(0), ...header };
    if (h.type === undefined || h.type === "file") p.entry(h, content ?? "");
    else p.entry(h);
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** A stream of `data` in chunks of `size` bytes (to exercise boundaries). */
export function streamOf(data: Uint8Array, size = 7919): ReadableStream<Uint8Array> {
  let pos = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (pos >= data.length) return c.close();
      c.enqueue(data.slice(pos, pos + size));
      pos += size;
    },
  });
}

export function fileStream(path: string): ReadableStream<Uint8Array> {
  return Bun.file(path).stream();
}

/** stdout of a shell pipeline. */
export function sh(cmd: string): string {
  const r = Bun.spawnSync(["sh", "-c", cmd], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

export async function expectError(p: Promise<unknown>, code: ErrorCode, message: string): Promise<void> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BuildkitError);
  expect((err as BuildkitError).message).toBe(message);
  expect((err as BuildkitError).code).toBe(code);
}
