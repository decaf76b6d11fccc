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

export interface LayoutCache {
  readonly manifest: { config: { digest: string }; layers: { digest: string; size: number }[] };
  readonly records: { key: string; output: number; layers: number[]; description?: string }[];
}

/** The cache manifest tagged latest in an OCI layout, and its config's records. */
export function readLayout(dir: string): LayoutCache {
  const blob = (digest: string) => readFileSync(join(dir, "blobs/sha256", digest.replace("sha256:", "")), "utf8");
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === "latest");
  if (!entry) throw new Error(`no latest manifest in ${dir}`);
  const manifest = JSON.parse(blob(entry.digest)) as LayoutCache["manifest"];
  const config = JSON.parse(blob(manifest.config.digest)) as { records: LayoutCache["records"] };
  return { manifest, records: config.records };
}
