// serve-image: the daemon as a container image. An OCI image holding the `buildkit` binary,
// runc and what `serve` needs at run time (glibc, libseccomp, cp for merge/diff, busybox for a
// shell), made from files already on a Debian host — no network: `--local host=/` with include
// patterns picks them (only those are read and sent), `--local bin=DIR` holds the compiled
// binary. Its entrypoint is `buildkit serve`, set at export with SERVE_IMAGE_OUTPUT's config.
//
//   buildkit graph serve-image | buildkit build --local host=/ --local bin=dist-dir \
//     --output 'type=oci,dest=serve.tar,name=buildkit-ts/serve:dev,"containerimage.config={""config"":{""Entrypoint"":[""/usr/local/bin/buildkit"",""serve""],""Cmd"":[""--addr"",""unix:///run/buildkit/buildkitd.sock""]}}"'
//
// Run it privileged (runc and overlayfs inside) with a volume at /var/lib/buildkit-ts and the
// socket's directory /run/buildkit shared with the host.
import { local, mkdir, type State } from "../src/core/llb/index.ts";
import type { Example } from "./lib/example.ts";
import { csvQuote, glibcFiles } from "./lib/host-files.ts";
import { runExample } from "./lib/run.ts";

/** Host files the image takes, relative to / on a merged-/usr Debian (12 and later). */
export const HOST_FILES = [
  "usr/sbin/runc",
  "usr/bin/busybox",
  "usr/bin/cp",
  // runc's and cp's libraries besides glibc's.
  ...glibcFiles(["libseccomp.so.2*", "libselinux.so.1", "libacl.so.1*", "libattr.so.1*", "libpcre2-8.so.0*"]),
];

/** The image's container settings: `buildkit serve` on /run/buildkit/buildkitd.sock. */
export const SERVE_IMAGE_CONFIG = {
  config: {
    Entrypoint: ["/usr/local/bin/buildkit", "serve"],
    Cmd: ["--addr", "unix:///run/buildkit/buildkitd.sock"],
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    Volumes: { "/var/lib/buildkit-ts": {} },
  },
};

/** `--output` for an OCI tarball of the image at dest, with the config quoted as buildctl reads it. */
export function serveImageOutput(dest: string, name = "buildkit-ts/serve:dev"): string {
  return `type=oci,dest=${dest},name=${name},${csvQuote(`containerimage.config=${JSON.stringify(SERVE_IMAGE_CONFIG)}`)}`;
}

export const serveImage: Example = {
  name: "serve-image",
  summary: "the daemon as an OCI image from this host's files: buildkit serve, runc, glibc (--local host=/ --local bin=DIR-with-buildkit)",
  allowsLocal: true,
  build(): State {
    // Layer 1: the host's files at their own paths; layer 2: the binary and the filesystem's bones.
    const host = local("host", { includePatterns: HOST_FILES, sharedKeyHint: "serve-image-host" });
    const bin = local("bin", { includePatterns: ["buildkit"] });
    return host.file(
      mkdir("/usr/local/bin", 0o755, { parents: true })
        .copy(bin, "/buildkit", "/usr/local/bin/buildkit")
        .symlink("usr/bin", "/bin")
        .symlink("usr/sbin", "/sbin")
        .symlink("usr/lib", "/lib")
        .symlink("usr/lib64", "/lib64")
        .symlink("busybox", "/usr/bin/sh")
        .mkdir("/tmp", 0o1777)
        .mkdir("/proc", 0o555)
        .mkdir("/sys", 0o555)
        .mkdir("/dev", 0o755)
        .mkdir("/run/buildkit", 0o711, { parents: true })
        .mkdir("/var/lib/buildkit-ts", 0o711, { parents: true })
        .mkdir("/etc", 0o755)
        .mkfile("/etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n")
        .mkfile("/etc/group", 0o644, "root:x:0:\n"),
      { name: "the image's binary, links and directories" },
    );
  },
};

if (import.meta.main) await runExample(serveImage);
