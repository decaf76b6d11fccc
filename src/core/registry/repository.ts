/**
 * Repositories as the client methods take them ("127.0.0.1:5000/a/b", a full ref, or a parsed
 * ImageRef), and the scopes and URLs built from them.
 */
import { BuildkitError } from "../errors.ts";
import { parseImageRef } from "../reference/docker-ref.ts";
import type { ImageRef } from "../reference/docker-ref.ts";

export interface Repository {
  readonly domain: string;
  readonly path: string;
}

export type RepositoryLike = string | Pick<ImageRef, "domain" | "path">;

/** Parses a ref with InvalidArgument errors in the `verb noun: cause` form. */
export function parseRef(ref: string, verb: string): ImageRef {
  try {
    return parseImageRef(ref);
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `${verb} ${ref}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function toRepository(repo: RepositoryLike): Repository {
  if (typeof repo !== "string") return { domain: repo.domain, path: repo.path };
  const { domain, path } = parseRef(repo, "parsing repository");
  return { domain, path };
}

export function repositoryName(r: Repository): string {
  return `${r.domain}/${r.path}`;
}

export function pullScope(r: Repository): string {
  return `repository:${r.path}:pull`;
}

export function pushScope(r: Repository): string {
  return `repository:${r.path}:pull,push`;
}
