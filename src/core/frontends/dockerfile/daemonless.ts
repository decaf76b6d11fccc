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

/** `.dockerignore` lines → exclude patterns, as BuildKit's reader (moby/patternmatcher/ignorefile.ReadAll). */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const invert = line.startsWith("!");
    if (invert) line = line.slice(1).trim();
    if (line.length > 0) {
      line = goClean(line);
      if (line.length > 1 && line.startsWith("/")) line = line.slice(1);
    }
    out.push(invert ? `!${line}` : line);
  }
  return out;
}

/** Go's path.Clean: "." and empty segments dropped, ".." resolved, "." for nothing. */
export function goClean(p: string): string {
  const rooted = p.startsWith("/");
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === ".." && parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else if (seg !== ".." || !rooted) parts.push(seg);
  }
  const joined = parts.join("/");
  return rooted ? `/${joined}` : joined || ".";
}
