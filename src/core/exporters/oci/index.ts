/**
 * `--output type=oci,dest=FILE|-` and `--output type=docker,dest=FILE|-`: the result as an
 * image archive (image-archive.ts). The image is made in the worker's content store as for
 * type=image (so a later export of the same result reuses its layers), then the archive is
 * streamed from there: to FILE under a temporary name renamed when complete, or to stdout.
 * Defaults, as BuildKit's: gzip layers for both, with OCI media types for oci and Docker
 * schema2 ones for docker.
 */
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Writable } from "node:stream";
import { invalidArgument, withContext } from "../../errors.ts";
import { fileSink } from "../../image/byte-sink.ts";
import type { ByteSink } from "../../image/byte-sink.ts";
import { formatImageRef } from "../../reference/docker-ref.ts";
import { NO_EXPORT_PROGRESS, type BuildResult, type Exporter, type ExporterInstance, type ExportProgress } from "../exporter.ts";
import { knownImageAttrs, parseImageOptions } from "../image/attrs.ts";
import type { ImageOptions } from "../image/attrs.ts";
import { buildOutput, goDescriptor } from "../image/build-image.ts";
import { ANNOTATION_CREATED } from "../../image/oci-types.ts";
import { rfc3339Seconds } from "../../go-time.ts";
import { withImageContext } from "../image/context.ts";
import { imageResponse } from "../image/index.ts";
import { rejectUnknownAttrs, requireDest } from "../spec.ts";
import { writableSink } from "./archive-writer.ts";
import type { ArchiveFormat } from "./image-archive.ts";
import { writeImageArchive } from "./image-archive.ts";

export interface ArchiveExporterOptions {
  /** Where dest=- goes (default process.stdout). */
  readonly stdout?: () => Writable;
}

const DEFAULTS = {
  oci: { compression: "gzip", oci: true },
  docker: { compression: "gzip", oci: false },
} as const;

export function createOciExporter(opts: ArchiveExporterOptions = {}): Exporter {
  return createArchiveExporter("oci", opts);
}

export function createDockerExporter(opts: ArchiveExporterOptions = {}): Exporter {
  return createArchiveExporter("docker", opts);
}

function createArchiveExporter(format: ArchiveFormat, opts: ArchiveExporterOptions): Exporter {
  return {
    type: format,
    resolve(attrs): ExporterInstance {
      rejectUnknownAttrs(format, attrs, knownImageAttrs(attrs, ["dest"]));
      const raw = requireDest(format, attrs);
      const image = parseImageOptions(format, attrs, DEFAULTS[format]);
      const dest = raw === "-" ? "-" : resolve(raw);
      const where = dest === "-" ? "stdout" : dest;
      return {
        description: `exporting to ${format} image format`,
        async export(result: BuildResult, signal: AbortSignal, progress = NO_EXPORT_PROGRESS) {
          try {
            return await exportArchive(result, { format, image, dest, stdout: opts.stdout, signal, progress });
          } catch (err) {
            throw withContext(`exporting ${format} image to ${where}`, err);
          }
        },
      };
    },
  };
}

function defaultStdout(): Writable {
  return process.stdout;
}

interface ArchiveExport {
  readonly format: ArchiveFormat;
  readonly image: ImageOptions;
  readonly dest: string;
  readonly stdout: (() => Writable) | undefined;
  readonly signal: AbortSignal;
  readonly progress: ExportProgress;
}

function exportArchive(result: BuildResult, p: ArchiveExport): Promise<Record<string, string>> {
  return withImageContext(result, async (ctx) => {
    // docker's archive holds one image: no manifest list, as BuildKit's docker exporter says.
    if (p.format === "docker" && result.platforms) throw invalidArgument("docker exporter does not currently support exporting manifest lists");
    const made = await buildOutput(result, ctx, { ...p.image, signal: p.signal, exporter: p.format, progress: p.progress });
    // The archive's top descriptor is dated (org.opencontainers.image.created), as BuildKit's oci exporter dates it.
    const created = rfc3339Seconds(p.image.epoch === undefined ? Date.now() : p.image.epoch * 1000);
    const built = { ...made, top: goDescriptor({ ...made.top, annotations: { [ANNOTATION_CREATED]: created, ...made.top.annotations } }) };
    const write = (sink: ByteSink) => writeImageArchive(sink, ctx.store, built, { format: p.format, names: p.image.names, mtime: p.image.epoch ?? 0, signal: p.signal });
    await p.progress.step("sending tarball", () => (p.dest === "-" ? write(writableSink((p.stdout ?? defaultStdout)())) : writeFileAtomically(p.dest, write)));
    return imageResponse(built, p.image.names.map(formatImageRef).join(",") || undefined);
  });
}

/** Writes through a sink to `dest.partial-PID`, renamed to dest once complete. */
async function writeFileAtomically(dest: string, write: (sink: ByteSink) => Promise<void>): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const partial = `${dest}.partial-${process.pid}`;
  const sink = await fileSink(partial);
  try {
    await write(sink);
    await rename(partial, dest);
  } catch (err) {
    await sink.abort(err);
    throw err;
  } finally {
    await rm(partial, { force: true });
  }
}
