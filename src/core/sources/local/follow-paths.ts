/**
 * Follow paths (`local.followpaths`): paths whose symlinks are resolved inside the root, every
 * link and every target along the way becoming an include pattern, so that including a link also
 * includes what it points at. A port of fsutil's FollowLinks; links never leave the root (an
 * absolute target or one with ".." is taken relative to the root). The last element of a path may
 * hold wildcards, matched against the directory's names.
 */
import { readdirSync, lstatSync, readlinkSync } from "node:fs";
import { withContext } from "../../errors.ts";
import { cleanPath } from "../../fs/patterns.ts";
import { hasWildcards, matchWildcardLenient as matchElement } from "../../fs/wildcard.ts";
import { isErrno } from "./walk.ts";

/** Guards against link cycles that keep producing new paths. */
const MAX_DEPTH = 255;

/** The sorted root-relative paths that `paths` resolve through ("." for the root itself). */
export function followLinks(root: string, paths: readonly string[]): string[] {
  const resolved = new Set<string>();
  for (const path of paths) follow(root, path, resolved, 0);
  return [...resolved].sort();
}

function follow(root: string, path: string, resolved: Set<string>, depth: number): void {
  if (depth > MAX_DEPTH) return;
  let rest = confine(path);
  let current = "";
  for (;;) {
    const slash = rest.indexOf("/");
    const head = slash < 0 ? rest : rest.slice(0, slash);
    rest = slash < 0 ? "" : rest.slice(slash + 1);
    current = current === "" ? head : `${current}/${head}`;
    const targets = readLinks(root, current, true);
    if ((rest === "" || targets !== undefined) && resolved.has(current)) return;
    if (targets !== undefined) {
      resolved.add(current);
      for (const target of targets) follow(root, rest === "" ? target : `${target}/${rest}`, resolved, depth + 1);
      return;
    }
    if (rest === "") {
      resolved.add(current);
      return;
    }
  }
}

/** A root-relative clean path: "/a/../../b" → "b", "" or "/" → ".". */
function confine(path: string): string {
  return cleanPath(`/${path}`).slice(1) || ".";
}

/**
 * The targets of the link at `path` (relative to the root), or undefined when it is not a link
 * or is missing. With wildcards in the last element, the targets of every matching link.
 */
function readLinks(root: string, path: string, allowWildcard: boolean): string[] | undefined {
  const slash = path.lastIndexOf("/");
  const base = path.slice(slash + 1);
  if (allowWildcard && hasWildcards(base)) return readMatchingLinks(root, path.slice(0, slash + 1), base);
  const abs = `${root}/${path}`;
  try {
    if (!lstatSync(abs, { throwIfNoEntry: false })?.isSymbolicLink()) return undefined;
    const link = readlinkSync(abs);
    const parent = slash < 0 ? "" : path.slice(0, slash);
    return [confine(link.startsWith("/") ? link : `${parent}/${link}`)];
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return undefined;
    throw withContext(`following ${abs}`, err);
  }
}

function readMatchingLinks(root: string, dirPrefix: string, pattern: string): string[] | undefined {
  let names: string[];
  try {
    names = readdirSync(`${root}/${dirPrefix}`);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return undefined;
    throw withContext(`following ${root}/${dirPrefix}${pattern}`, err);
  }
  const targets = names
    .filter((name) => matchElement(pattern, name))
    .sort()
    .flatMap((name) => readLinks(root, `${dirPrefix}${name}`, false) ?? []);
  return targets.length > 0 ? targets : undefined;
}
