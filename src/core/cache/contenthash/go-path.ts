/** Go's path package for "/"-separated paths: Clean, Join, Dir, Base, IsAbs. */
import { cleanPath } from "../../fs/patterns.ts";

export const clean = (p: string): string => cleanPath(p);

export function join(...parts: string[]): string {
  const kept = parts.filter((p) => p !== "");
  return kept.length === 0 ? "" : cleanPath(kept.join("/"));
}

export function dir(p: string): string {
  return cleanPath(p.slice(0, p.lastIndexOf("/") + 1));
}

export function base(p: string): string {
  if (p === "") return ".";
  const trimmed = p.replace(/\/+$/, "");
  if (trimmed === "") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

export const isAbs = (p: string): boolean => p.startsWith("/");
