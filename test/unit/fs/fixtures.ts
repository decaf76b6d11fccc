// Helpers for the file-op tests: temp roots, small trees, and FileActions with the Go client's
// defaults (timestamp -1, copy mode -1).
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect } from "bun:test";
import { BuildkitError } from "../../../src/core/errors.ts";
import { applyFileAction } from "../../../src/core/fs/file-actions.ts";
import type { pb } from "../../../src/core/pb/index.ts";

export const isRoot = process.getuid?.() === 0;

const made: string[] = [];

/** A fresh temp directory, removed by {@link cleanup}. */
export function tempDir(name = "root"): string {
  const dir = mkdtempSync(join(tmpdir(), `bk-fs-${name}-`));
  made.push(dir);
  return dir;
}

export function cleanup(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes a tree: "dir/" entries are directories, "->target" values symlinks, others files. */
export function tree(root: string, entries: Record<string, string>): void {
  for (const [path, content] of Object.entries(entries)) {
    const full = join(root, path);
    if (path.endsWith("/")) {
      mkdirSync(full, { recursive: true });
      continue;
    }
    mkdirSync(dirname(full), { recursive: true });
    if (content.startsWith("->")) symlinkSync(content.slice(2), full);
    else writeFileSync(full, content);
  }
}

export const read = (root: string, path: string): string => readFileSync(join(root, path), "utf8");
export const exists = (root: string, path: string): boolean => {
  try {
    lstatSync(join(root, path));
    return true;
  } catch {
    return false;
  }
};
export const modeOf = (root: string, path: string): number => lstatSync(join(root, path)).mode & 0o7777;

export function mkdirAction(path: string, o: pb.FileActionMkDir.$Properties = {}): pb.FileAction.$Properties {
  return { mkdir: { path, mode: 0o755, timestamp: -1, ...o } };
}

export function mkfileAction(path: string, data: string, o: pb.FileActionMkFile.$Properties = {}): pb.FileAction.$Properties {
  return { mkfile: { path, data: new TextEncoder().encode(data), mode: 0o644, timestamp: -1, ...o } };
}

export function rmAction(path: string, o: pb.FileActionRm.$Properties = {}): pb.FileAction.$Properties {
  return { rm: { path, ...o } };
}

export function symlinkAction(oldpath: string, newpath: string, o: pb.FileActionSymlink.$Properties = {}): pb.FileAction.$Properties {
  return { symlink: { oldpath, newpath, timestamp: -1, ...o } };
}

export function copyAction(src: string, dest: string, o: pb.FileActionCopy.$Properties = {}): pb.FileAction.$Properties {
  return { copy: { src, dest, mode: -1, timestamp: -1, ...o } };
}

/** A source (secondary) and destination (base) root holding the given trees. */
export function copyDirs(src: Record<string, string>, dest: Record<string, string> = {}): { base: string; secondary: string } {
  const secondary = tempDir("src");
  const base = tempDir("dest");
  tree(secondary, src);
  tree(base, dest);
  return { base, secondary };
}

/** Applies a copy action from dirs.secondary into dirs.base. */
export function runCopy(dirs: { base: string; secondary: string }, src: string, dest: string, o: pb.FileActionCopy.$Properties = {}): Promise<void> {
  return applyFileAction(copyAction(src, dest, o), dirs);
}

/** Asserts that the promise rejects with a BuildkitError with exactly this message (and code). */
export async function expectError(p: Promise<unknown>, message: string, code?: string): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(BuildkitError);
  expect((caught as BuildkitError).message).toBe(message);
  if (code !== undefined) expect((caught as BuildkitError).code).toBe(code as BuildkitError["code"]);
}
