// What the local cache tests through `buildkit serve` share: a registry with busybox, a small
// Dockerfile project, a cache directory, and checks of what an export left in it.
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "bun:test";
import { startBusyboxRegistry } from "../../fixtures/images.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";
import type { ServeHarness } from "./daemon.ts";

const REF_NAME = "org.opencontainers.image.ref.name";

export interface OciIndex {
  manifests: { mediaType?: string; digest: string; size: number; annotations?: Record<string, string> }[];
}

export interface LocalCacheProject {
  readonly registry: TestRegistry;
  readonly context: string;
  readonly dockerfileDir: string;
  /** The cache directory (not made yet). */
  readonly cache: string;
  /** The flags of a build of the project through the Dockerfile frontend. */
  frontendArgs(...extra: string[]): string[];
  /** The index.json entries tagged tag. */
  tagged(tag: string): OciIndex["manifests"];
  /** Checks that the cache tagged tag is whole in the directory (its index, config and layers); returns its index entry. */
  expectWhole(tag: string): OciIndex["manifests"][number];
}

/** Two RUN steps over a COPY of the context; label makes its keys this test's own. */
export async function localCacheProject(h: ServeHarness, label: string): Promise<LocalCacheProject> {
  const registry = await startBusyboxRegistry(h.temp("image"));
  const context = h.temp("context");
  writeFileSync(join(context, "app.txt"), "app\n");
  const dockerfileDir = h.temp("dockerfile");
  writeFileSync(
    join(dockerfileDir, "Dockerfile"),
    `FROM ${registry.host}/test/busybox:latest\nCOPY app.txt /app.txt\nRUN cat /app.txt > /one && echo ${label}-${Date.now()} >> /one\nRUN cat /one > /two\n`,
  );
  const cache = join(h.temp("cache"), "dir");
  const blob = (digest: string) => join(cache, "blobs", "sha256", digest.slice("sha256:".length));
  const tagged = (tag: string) => (JSON.parse(readFileSync(join(cache, "index.json"), "utf8")) as OciIndex).manifests.filter((m) => m.annotations?.[REF_NAME] === tag);
  return {
    registry,
    context,
    dockerfileDir,
    cache,
    frontendArgs: (...extra) => ["--progress", "plain", "--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${dockerfileDir}`, ...extra],
    tagged,
    expectWhole(tag) {
      const entries = tagged(tag);
      expect(entries).toHaveLength(1);
      const top = entries[0]!;
      expect(statSync(blob(top.digest)).size).toBe(top.size);
      const cacheIndex = JSON.parse(readFileSync(blob(top.digest), "utf8")) as OciIndex;
      expect(cacheIndex.manifests.length).toBeGreaterThan(1); // the layers and the cache config
      for (const m of cacheIndex.manifests) expect(statSync(blob(m.digest)).size).toBe(m.size);
      return top;
    },
  };
}
