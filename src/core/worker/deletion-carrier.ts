/**
 * A diff's deletions, kept with its snapshot so that a merge can apply them (BuildKit applies a
 * diff input's deletions to the inputs merged before it) while the diff on its own still looks
 * like only what it adds or changes.
 *
 * A diff with deletions is committed on top of a *carrier*: a snapshot holding an empty file at
 * each deleted path (with the directories that lead to it), each of which the diff's own layer
 * then deletes, so the diff's view hides them all (overlay whiteouts, on either backend). The
 * carrier is known by its name's prefix; layer exports skip it (the diff's layer is still its
 * tree against nothing) and merges read the deleted paths back from it.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { lstatIfAny } from "../fs/fs-error.ts";
import type { Worker } from "./worker.ts";
import { buildSnapshot, newId, withView } from "./snapshots.ts";

const CARRIER_PREFIX = "diff-deletions-";

export function isDeletionCarrier(name: string | undefined): boolean {
  return name?.startsWith(CARRIER_PREFIX) ?? false;
}

/** Commits a carrier for `deleted` (root-relative paths, no leading "/"); returns its name. */
export async function commitDeletionCarrier(worker: Worker, deleted: readonly string[]): Promise<string> {
  return buildSnapshot(
    worker,
    undefined,
    async (dir) => {
      for (const rel of deleted) {
        const slash = rel.lastIndexOf("/");
        if (slash > 0) mkdirSync(`${dir}/${rel.slice(0, slash)}`, { recursive: true, mode: 0o755 });
        writeFileSync(`${dir}/${rel}`, "", { mode: 0o644 });
      }
    },
    { name: newId(CARRIER_PREFIX.slice(0, -1)) },
  );
}

/** Removes each carrier placeholder from a snapshot mounted on top of the carrier (overlay leaves whiteouts). */
export function hidePlaceholders(dir: string, deleted: readonly string[]): void {
  for (const rel of deleted) rmSync(`${dir}/${rel}`, { force: true });
}

/** The paths a diff snapshot deletes, or undefined when it is not a diff with deletions. */
export async function deletionsOf(worker: Worker, name: string): Promise<string[] | undefined> {
  const parent = (await worker.snapshotter.stat(name))?.parent;
  if (!isDeletionCarrier(parent)) return undefined;
  return withView(worker, parent, async (dir) => placeholders(dir, ""));
}

function placeholders(dir: string, rel: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(rel === "" ? dir : `${dir}/${rel}`, { withFileTypes: true })) {
    const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...placeholders(dir, path));
    else out.push(path);
  }
  return out;
}

/**
 * Deletes `rel` below root as BuildKit's applier does (remove all), without following a
 * symlink on the way: when a parent is not a directory there is nothing there to delete.
 */
export function removeBelow(root: string, rel: string): void {
  const parts = rel.split("/");
  let path = root;
  for (const part of parts.slice(0, -1)) {
    path = `${path}/${part}`;
    const st = lstatIfAny(path);
    if (!st?.isDirectory()) return;
  }
  rmSync(`${root}/${rel}`, { recursive: true, force: true });
}

