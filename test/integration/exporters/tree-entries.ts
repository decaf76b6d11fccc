// What a build's exported tree holds, entry by entry, for comparing two daemons' results: a
// directory written by buildctl's local exporter (read with lstat: type, mode with its special
// bits, size, content digest, symlink target, hard-link group, mtime in ns) and a tar written
// by its tar exporter (the headers: type, mode, uid, gid, size, link name, mtime). buildctl's
// local receiver makes every file its own user's, so owners come from the tar alone.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export interface DirEntry {
  readonly type: "dir" | "file" | "symlink" | "fifo" | "other";
  readonly mode: string;
  readonly size?: number;
  readonly sha256?: string;
  readonly target?: string;
  /** The other paths in the tree sharing this file's inode (hard links), sorted. */
  readonly links?: readonly string[];
  readonly mtimeNs: bigint;
}

export interface TarEntry {
  readonly type: string;
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly link?: string;
  readonly mtimeNs: bigint;
}

function typeOf(mode: number): DirEntry["type"] {
  switch (mode & 0o170000) {
    case 0o040000:
      return "dir";
    case 0o100000:
      return "file";
    case 0o120000:
      return "symlink";
    case 0o010000:
      return "fifo";
    default:
      return "other";
  }
}

/** Every path under root (not root itself), relative, with what lstat says of it. */
export function readDirTree(root: string): Map<string, DirEntry> {
  const found: { path: string; entry: DirEntry; ino: bigint }[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const full = join(root, path);
      const st = lstatSync(full, { bigint: true });
      const type = typeOf(Number(st.mode));
      const entry: DirEntry = {
        type,
        mode: (Number(st.mode) & 0o7777).toString(8).padStart(4, "0"),
        mtimeNs: st.mtimeNs,
        ...(type === "file" ? { size: Number(st.size), sha256: createHash("sha256").update(readFileSync(full)).digest("hex") } : {}),
        ...(type === "symlink" ? { target: readlinkSync(full) } : {}),
      };
      found.push({ path, entry, ino: st.ino });
      if (type === "dir") walk(path);
    }
  };
  walk("");
  const byIno = new Map<bigint, string[]>();
  for (const f of found) if (f.entry.type !== "dir") byIno.set(f.ino, [...(byIno.get(f.ino) ?? []), f.path]);
  const out = new Map<string, DirEntry>();
  for (const f of found) {
    const others = (byIno.get(f.ino) ?? []).filter((p) => p !== f.path);
    out.set(f.path, f.entry.type !== "dir" && others.length > 0 ? { ...f.entry, links: others.sort() } : f.entry);
  }
  return out;
}

const TAR_TYPES: Readonly<Record<string, string>> = { "0": "file", "\0": "file", "1": "hardlink", "2": "symlink", "3": "char", "4": "block", "5": "dir", "6": "fifo" };

function field(block: Uint8Array, offset: number, length: number): string {
  const bytes = block.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end));
}

function octal(block: Uint8Array, offset: number, length: number): number {
  const text = field(block, offset, length).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function paxRecords(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const text = new TextDecoder().decode(data);
  let pos = 0;
  while (pos < text.length) {
    const space = text.indexOf(" ", pos);
    const len = parseInt(text.slice(pos, space), 10);
    const record = text.slice(space + 1, pos + len - 1);
    const eq = record.indexOf("=");
    out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

function paxTimeNs(text: string): bigint {
  const [secs = "0", frac = ""] = text.split(".");
  return BigInt(secs) * 1_000_000_000n + BigInt((frac + "000000000").slice(0, 9));
}

/** Normalized entry name: no leading "./" or "/", no trailing "/". */
function normal(name: string): string {
  return name.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
}

/** The tar's entries by path (a plain ustar/PAX/GNU-long-name reader, independent of ours). */
export function readTarEntries(tar: Uint8Array): Map<string, TarEntry> {
  const out = new Map<string, TarEntry>();
  let pos = 0;
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  while (pos + 512 <= tar.length) {
    const block = tar.subarray(pos, pos + 512);
    if (block.every((b) => b === 0)) break;
    const flag = String.fromCharCode(block[156] ?? 0);
    const size = octal(block, 124, 12);
    const data = tar.subarray(pos + 512, pos + 512 + size);
    pos += 512 + Math.ceil(size / 512) * 512;
    if (flag === "x") {
      pax = paxRecords(data);
      continue;
    }
    if (flag === "L" || flag === "K") {
      const text = new TextDecoder().decode(data).replace(/\0+$/, "");
      if (flag === "L") longName = text;
      else longLink = text;
      continue;
    }
    const prefix = field(block, 345, 155);
    const name = pax.get("path") ?? longName ?? (prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100));
    const link = pax.get("linkpath") ?? longLink ?? field(block, 157, 100);
    const mtime = pax.get("mtime");
    const path = normal(name);
    if (path !== "" && path !== ".") {
      const type = TAR_TYPES[flag] ?? `type ${flag}`;
      out.set(path, {
        type,
        mode: (octal(block, 100, 8) & 0o7777).toString(8).padStart(4, "0"),
        uid: Number(pax.get("uid") ?? octal(block, 108, 8)),
        gid: Number(pax.get("gid") ?? octal(block, 116, 8)),
        size: Number(pax.get("size") ?? size),
        ...(link !== "" ? { link: type === "hardlink" ? normal(link) : link } : {}),
        mtimeNs: mtime !== undefined ? paxTimeNs(mtime) : BigInt(octal(block, 136, 12)) * 1_000_000_000n,
      });
    }
    pax = new Map();
    longName = undefined;
    longLink = undefined;
  }
  return out;
}
