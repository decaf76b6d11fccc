// frontend-image: our Dockerfile frontend as a BuildKit gateway frontend image. Only the `buildkit`
// binary and the glibc files it runs on, taken from this Debian host (`--local host=/` with
// include patterns; no network), and `--local bin=DIR` holding the compiled binary. Its
// Entrypoint, `buildkit frontend`, is set at export with frontendImageOutput's config.
//
//   buildkit graph frontend-image | buildkit build --local host=/ --local bin=dist-dir \
//     --output "$(bun -e 'import {frontendImageOutput as o} from "./examples/frontend-image.ts"; console.log(o("REGISTRY/bk-frontend:dev"))')"
//   buildctl build --frontend gateway.v0 --opt source=REGISTRY/bk-frontend:dev \
//     --local context=. --local dockerfile=.        # or `# syntax=REGISTRY/bk-frontend:dev`
import { local, mkdir, type State } from "../src/core/llb/index.ts";
import type { Example } from "./lib/example.ts";
import { csvQuote, glibcFiles } from "./lib/host-files.ts";
import { runExample } from "./lib/run.ts";

/** Host files the image takes: glibc only (the binary carries everything else). */
export const FRONTEND_HOST_FILES = glibcFiles();

/**
 * The image's container settings. BuildKit runs the Entrypoint with the LLBBridge on stdin and
 * stdout; the labels are the ones BuildKit's gateway reads: no network for the container (the
 * frontend needs none: images resolve through the bridge, as BuildKit's own dockerfile image
 * declares), and the capabilities a client may require (`frontend.caps`; buildx asks for
 * contexts when given --build-context; inputs and subrequests are not implemented here).
 */
export const FRONTEND_IMAGE_CONFIG = {
  config: {
    Entrypoint: ["/usr/local/bin/buildkit", "frontend"],
    Labels: {
      "moby.buildkit.frontend.network.none": "true",
      "moby.buildkit.frontend.caps": "moby.buildkit.frontend.contexts",
    },
  },
};

/**
 * `--output` for the image: pushed as name (type=image,push=true), or with dest an OCI tarball
 * named name; the config quoted as buildctl reads it.
 */
export function frontendImageOutput(name: string, opts: { dest?: string } = {}): string {
  const config = csvQuote(`containerimage.config=${JSON.stringify(FRONTEND_IMAGE_CONFIG)}`);
  return opts.dest === undefined ? `type=image,name=${name},push=true,${config}` : `type=oci,dest=${opts.dest},name=${name},${config}`;
}

export const frontendImage: Example = {
  name: "frontend-image",
  summary: "the Dockerfile frontend as a BuildKit gateway frontend image: buildkit frontend and glibc (--local host=/ --local bin=DIR-with-buildkit)",
  allowsLocal: true,
  build(): State {
    // Layer 1: glibc at its own paths; layer 2: the binary and the links and mount points it needs.
    const host = local("host", { includePatterns: FRONTEND_HOST_FILES, sharedKeyHint: "frontend-image-host" });
    const bin = local("bin", { includePatterns: ["buildkit"] });
    return host.file(
      mkdir("/usr/local/bin", 0o755, { parents: true })
        .copy(bin, "/buildkit", "/usr/local/bin/buildkit")
        // The ELF interpreter's path (/lib64/ld-linux-x86-64.so.2, /lib/ld-linux-aarch64.so.1) and the libraries' (/lib/*-linux-gnu).
        .symlink("usr/lib", "/lib")
        .symlink("usr/lib64", "/lib64")
        .mkdir("/proc", 0o555)
        .mkdir("/dev", 0o755)
        .mkdir("/etc", 0o755)
        .mkdir("/tmp", 0o1777),
      { name: "the image's binary, links and directories" },
    );
  },
};

if (import.meta.main) await runExample(frontendImage);
