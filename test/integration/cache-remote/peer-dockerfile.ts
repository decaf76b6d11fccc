// What the cache interchange tests with BuildKit share: a registry holding busybox as
// test/busybox:latest, a context and a Dockerfile directory, peer buildctl builds through the
// Dockerfile frontend, and which of BuildKit's steps were CACHED and which ran.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startBusyboxRegistry } from "../../fixtures/images.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";
import { BUILDCTL } from "../../fixtures/peers.ts";
import type { BuildHarness } from "../build/harness.ts";
import type { PeerDaemon } from "../client/daemons.ts";

export { BUILDCTL };

export interface DockerfileProject {
  readonly registry: TestRegistry;
  /** The `context` local. */
  readonly context: string;
  /** The `dockerfile` local: a Dockerfile made from the registry's host. */
  readonly dockerfileDir: string;
}

/** Starts the registry, pushes busybox, writes the Dockerfile; fill the context with makeContext. */
export async function dockerfileProject(h: BuildHarness, dockerfile: (registryHost: string) => string, makeContext: (dir: string) => void): Promise<DockerfileProject> {
  const registry = await startBusyboxRegistry(h.temp("image"));
  try {
    const context = h.temp("context");
    makeContext(context);
    const dockerfileDir = h.temp("dockerfile");
    writeFileSync(join(dockerfileDir, "Dockerfile"), dockerfile(registry.host));
    return { registry, context, dockerfileDir };
  } catch (err) {
    await registry.stop();
    throw err;
  }
}

/** The flags of a Dockerfile build of the project, ours or buildctl's. */
export function frontendArgs(p: DockerfileProject, ...extra: string[]): string[] {
  return ["--frontend", "dockerfile.v0", "--local", `context=${p.context}`, "--local", `dockerfile=${p.dockerfileDir}`, ...extra];
}

/** `buildctl build` through the Dockerfile frontend; returns its plain progress. */
export function peerBuild(peer: PeerDaemon, p: DockerfileProject, args: string[]): { code: number; progress: string } {
  const r = Bun.spawnSync([BUILDCTL, "--addr", peer.addr, "build", "--progress", "plain", ...frontendArgs(p, ...args)], { timeout: 120_000 });
  return { code: r.exitCode ?? -1, progress: r.stderr.toString() };
}

/** Names of the steps BuildKit's plain progress reports CACHED, and of those it ran (FROM left out); step: what a step's name starts with. */
export function peerSteps(progress: string, step: RegExp): { cached: string[]; ran: string[] } {
  const names = new Map<string, string>();
  const cached = new Set<string>();
  const done = new Set<string>();
  for (const line of progress.split("\n")) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [, id = "", rest = ""] = m;
    if (step.test(rest) && !names.has(id)) names.set(id, rest);
    if (rest === "CACHED") cached.add(id);
    if (/^DONE /.test(rest)) done.add(id);
  }
  const steps = [...names].filter(([, n]) => !n.includes(" FROM "));
  return { cached: steps.filter(([id]) => cached.has(id)).map(([, n]) => n).sort(), ran: steps.filter(([id]) => done.has(id) && !cached.has(id)).map(([, n]) => n).sort() };
}
