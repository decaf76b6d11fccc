/** The daemonless backing of the frontend: base image configs from our registry client, `.dockerignore` from disk. */
import type { RegistryClient } from "../../registry/index.ts";
import type { ImageConfigResolver } from "./convert.ts";

export function registryImageResolver(client: RegistryClient, signal: AbortSignal = new AbortController().signal): ImageConfigResolver {
  return {
    async resolveImageConfig(ref, platform) {
      const r = await client.resolve(ref, platform, signal);
      // Go's resolver pins the digest it was given: the index's when the ref names an index.
      return { digest: r.indexDigest ?? r.digest, config: r.configBytes };
    },
  };
}

/** `.dockerignore` lines → exclude patterns: comments and blanks dropped, paths cleaned (as BuildKit's dockerignore reader). */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const invert = line.startsWith("!");
    if (invert) line = line.slice(1).trim();
    if (line.length > 0) {
      line = line.replace(/\/+$/, "").replace(/^\/+/, "").replace(/\/+/g, "/");
      line = line.split("/").filter((p, i, all) => !(p === "." && all.length > 1)).join("/") || ".";
    }
    out.push(invert ? `!${line}` : line);
  }
  return out;
}
