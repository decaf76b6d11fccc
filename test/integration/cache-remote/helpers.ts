// Shared pieces of the remote cache tests: a build graph, state dirs, trace checks, tree digests.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { copy } from "../../../src/core/llb/index.ts";
import type { State } from "../../../src/core/llb/index.ts";
import type { BuildHarness, BuildRun } from "../build/harness.ts";

const sh = (script: string) => ({ args: ["sh", "-c", script] });

/**
 * local rootfs → "echo one" → "echo two" (the final chain), "echo side" off the base, and a
 * file op copying side's file onto two: five steps; "echo side"'s result is not in the final
 * result's chain, so only mode=max exports it.
 */
export function cacheGraph(h: BuildHarness, salt: string): State {
  const one = h.base().run(sh(`echo one ${salt} > /one`)).root();
  const two = one.run(sh("cat /one > /two; echo two >> /two")).root();
  const side = h.base().run(sh(`echo side ${salt} > /side`)).root();
  return two.file(copy(side, "/side", "/side-copy"));
}

/** The same harness (rootfs, temp dir) building into another state directory. */
export function onState(h: BuildHarness, root: string): BuildHarness {
  return Object.create(h, { root: { value: root } }) as BuildHarness;
}

type Event = Record<string, unknown>;

const isCacheWork = (name: string): boolean => /^(exporting|importing)/.test(name);

/**
 * Build steps (not cache or export work) that completed, each by its last event: a step whose
 * cached result could not be loaded is first reported cached, then runs.
 */
export function completedSteps(run: BuildRun): Event[] {
  const last = new Map<string, Event>();
  for (const e of run.trace()) if (e.type === "vertex" && !isCacheWork(String(e.name))) last.set(String(e.digest), e);
  return [...last.values()].filter((e) => e.completed !== undefined);
}

/** Names of steps that ran (completed without being cached). */
export function ranSteps(run: BuildRun): string[] {
  return completedSteps(run)
    .filter((e) => e.cached !== true)
    .map((e) => String(e.name));
}

export function cachedSteps(run: BuildRun): string[] {
  return completedSteps(run)
    .filter((e) => e.cached === true)
    .map((e) => String(e.name));
}

/** Warning lines written on cache vertices. */
export function warnings(run: BuildRun): string[] {
  return run
    .trace()
    .filter((e) => e.type === "log")
    .map((e) => String(e.text ?? ""))
    .filter((t) => t.includes("warning:"));
}

/** A digest of a directory tree: paths, types, modes, sizes, contents and link targets. */
export function treeDigest(dir: string): string {
  const hash = createHash("sha256");
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = join(rel, name);
      const st = lstatSync(join(dir, path));
      hash.update(`${path} ${st.mode} ${st.uid}:${st.gid} `);
      if (st.isSymbolicLink()) hash.update(`-> ${readlinkSync(join(dir, path))}\n`);
      else if (st.isDirectory()) {
        hash.update("dir\n");
        walk(path);
      } else hash.update(`${st.size} ${createHash("sha256").update(readFileSync(join(dir, path))).digest("hex")}\n`);
    }
  };
  walk("");
  return hash.digest("hex");
}

/** A cache in BuildKit's format: the index (layers, then the config) and the config. */
export interface BuildkitCacheDoc {
  readonly index: { manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[] };
  readonly config: { layers?: { blob: string; parent?: number }[]; records?: { digest: string; layers?: { layer: number }[]; inputs?: unknown[][] }[] };
}

/** The cache tagged latest in an OCI layout. */
export function readLayout(dir: string): BuildkitCacheDoc {
  const blob = (digest: string) => readFileSync(join(dir, "blobs/sha256", digest.replace("sha256:", "")), "utf8");
  const top = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const entry = top.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === "latest");
  if (!entry) throw new Error(`no latest cache in ${dir}`);
  const index = JSON.parse(blob(entry.digest)) as BuildkitCacheDoc["index"];
  const config = index.manifests.find((m) => m.mediaType === "application/vnd.buildkit.cacheconfig.v0");
  if (!config) throw new Error(`no cache config in ${dir}`);
  return { index, config: JSON.parse(blob(config.digest)) as BuildkitCacheDoc["config"] };
}

/** How many records carry a result. */
export function resultCount(doc: BuildkitCacheDoc): number {
  return (doc.config.records ?? []).filter((r) => (r.layers ?? []).length > 0).length;
}

/** The blob descriptor of the top layer of the longest result chain: the final step's own layer. */
export function finalTopLayer(doc: BuildkitCacheDoc): { digest: string; size: number } {
  const layers = doc.config.layers ?? [];
  const depth = (i: number): number => (i === -1 ? 0 : 1 + depth(layers[i]!.parent ?? 0));
  const tops = (doc.config.records ?? []).flatMap((r) => (r.layers ?? []).map((l) => l.layer));
  const top = tops.reduce((a, b) => (depth(b) > depth(a) ? b : a));
  const desc = doc.index.manifests.find((m) => m.digest === layers[top]!.blob);
  if (!desc) throw new Error(`layer ${layers[top]!.blob} is not in the index`);
  return desc;
}
