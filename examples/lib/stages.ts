import { image, scratch, type MountSpec, type State } from "../../src/core/llb/index.ts";
import type { ExampleOptions } from "./options.ts";
import { posix } from "node:path";

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export const RUNC_REPO = "https://github.com/opencontainers/runc.git";
export const CONTAINERD_REPO = "https://github.com/containerd/containerd.git";

/**
 * Where each component's source sits in its build container, how it is built there, and
 * what it yields (paths relative to the source directory).
 */
export const COMPONENTS = {
  runc: { dir: "/src/runc", build: "make BUILDTAGS=seccomp runc", artifacts: ["runc"] },
  containerd: {
    dir: "/src/containerd",
    build: "make BUILDTAGS=no_btrfs bin/containerd bin/containerd-shim-runc-v2",
    artifacts: ["bin/containerd", "bin/containerd-shim-runc-v2"],
  },
  buildkit: { dir: "/src/buildkit", artifacts: ["dist/buildkit"] },
} as const;

/** A built component: a state and the directory in it that holds the built source tree. */
export interface Built {
  readonly state: State;
  readonly root: string;
}

export function buildkitBuildCommand(o: ExampleOptions): string {
  const arch = o.platform.architecture === "arm64" ? "arm64" : "x64";
  return `sh -c "npm ci && node_modules/.bin/bun scripts/build-binaries.ts --only linux-${arch} && cp dist/buildkit-linux-${arch} dist/buildkit"`;
}

/** Go toolchain with what runc's seccomp support needs. */
export function goBase(o: ExampleOptions): State {
  // The engine does not apply an image's config; like BuildKit's examples, set what the
  // golang image's config would give (its PATH and GOPATH).
  return image(o.goImage)
    .addEnv("PATH", `/usr/local/go/bin:/go/bin:${DEFAULT_PATH}`)
    .addEnv("GOPATH", "/go")
    .addEnv("GOFLAGS", "-buildvcs=false")
    .run({ shlex: `sh -c "apt-get update && apt-get install -y --no-install-recommends libseccomp-dev pkg-config"`, name: "install build dependencies" })
    .root();
}

/** Node.js toolchain; bun itself comes from the npm registry with `npm ci`. */
export function nodeBase(o: ExampleOptions): State {
  return image(o.nodeImage);
}

/** Caches that keep Go and npm downloads between builds (a capability shown from buildkit1 on). */
export const BUILD_CACHES: readonly MountSpec[] = [
  { dest: "/root/.cache/go-build", source: scratch(), cache: { id: "go-build" } },
  { dest: "/go/pkg/mod", source: scratch(), cache: { id: "go-mod" } },
  { dest: "/root/.npm", source: scratch(), cache: { id: "npm" } },
];

/**
 * Copies `paths` of `from` into /usr/local/bin of `into` with nothing but an exec step:
 * both are mounted into a helper container that runs cp.
 */
export function execCopy(o: ExampleOptions, from: Built, paths: readonly string[], into: State): State {
  const cp = image(o.runtimeImage).run({
    args: ["cp", "-a", ...paths.map((p) => posix.join("/from", from.root, p)), "/into/usr/local/bin/"],
    mounts: [
      { dest: "/from", source: from.state, readonly: true },
      { dest: "/into", source: into },
    ],
    name: `copy ${paths.map((p) => p.split("/").pop()).join(", ")}`,
  });
  return cp.getMount("/into")!;
}

/** The runtime image: buildkit and runc, plus containerd for the containerd target. */
export function assemble(o: ExampleOptions, parts: { buildkit: Built; runc: Built; containerd: Built }): State {
  let out = image(o.runtimeImage);
  out = execCopy(o, parts.buildkit, COMPONENTS.buildkit.artifacts, out);
  out = execCopy(o, parts.runc, COMPONENTS.runc.artifacts, out);
  if (o.target === "containerd") out = execCopy(o, parts.containerd, COMPONENTS.containerd.artifacts, out);
  return out;
}

/**
 * Builds a component whose source tree is another state (a clone stage, a git source or a
 * local directory) mounted at its directory; the mount's result holds the artifacts.
 */
export function buildMounted(base: State, source: State, dir: string, command: string, name: string): Built {
  const state = base.run({ shlex: command, cwd: dir, mounts: [{ dest: dir, source }, ...BUILD_CACHES], name }).getMount(dir)!;
  return { state, root: "/" };
}
