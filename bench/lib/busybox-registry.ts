// The benches' image source: a registry on 127.0.0.1 holding Debian's busybox as
// bench/busybox:latest, a digest-pinned ref to it, and a buildkitd.toml (read by both our binary
// and buildkitd) that reaches it over plain http.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { image, type State } from "../../src/core/llb/index.ts";
import { makeBusyboxImage, pushImage } from "../../test/fixtures/images.ts";
import { startRegistry, type TestRegistry } from "../../test/fixtures/registry.ts";

export interface BusyboxRegistry {
  readonly registry: TestRegistry;
  /** host/bench/busybox@sha256:… */
  readonly ref: string;
  /** Path of the buildkitd.toml written into work. */
  readonly config: string;
}

export async function startBusyboxRegistry(work: string): Promise<BusyboxRegistry> {
  const registry = await startRegistry();
  try {
    const layout = await makeBusyboxImage({ dir: join(work, "layout") });
    await pushImage(layout.layoutDir, `${registry.host}/bench/busybox:latest`);
    const config = join(work, "buildkitd.toml");
    writeFileSync(config, `[registry."${registry.host}"]\n  http = true\n  insecure = true\n`);
    return { registry, ref: `${registry.host}/bench/busybox@${layout.digest}`, config };
  } catch (err) {
    await registry.stop();
    throw err;
  }
}

/** Issue 11's 10-step chain: `echo i >> /steps` ten times on ref. */
export function tenStepChain(ref: string): State {
  let chain = image(ref);
  for (let i = 0; i < 10; i++) chain = chain.run({ args: ["sh", "-c", `echo ${i} >> /steps`] }).root();
  return chain;
}
