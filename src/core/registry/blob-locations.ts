/**
 * Which repositories of which registry are known to hold a blob (seen while pulling or pushing),
 * so that a push to another repository of the same registry can mount it instead of uploading.
 */
import type { Digest } from "../digest.ts";
import type { Repository } from "./repository.ts";

const MAX_DIGESTS = 50_000;

export interface BlobLocations {
  add(digest: Digest, repo: Repository): void;
  /** Repositories on the same registry as repo (repo itself excluded) known to hold digest. */
  sources(digest: Digest, repo: Repository): Repository[];
}

export function createBlobLocations(): BlobLocations {
  const byDigest = new Map<Digest, Map<string, Repository>>();
  return {
    add(digest, repo) {
      let repos = byDigest.get(digest);
      if (!repos) {
        if (byDigest.size >= MAX_DIGESTS) byDigest.clear();
        repos = new Map();
        byDigest.set(digest, repos);
      }
      repos.set(`${repo.domain}/${repo.path}`, { domain: repo.domain, path: repo.path });
    },
    sources(digest, repo) {
      const repos = [...(byDigest.get(digest)?.values() ?? [])];
      return repos.filter((r) => r.domain === repo.domain && r.path !== repo.path);
    },
  };
}
