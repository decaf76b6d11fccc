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
import { knownImageAttrs, parseBool, parseImageOptions } from "../image/attrs.ts";
import type { ImageOptions } from "../image/attrs.ts";
import { buildOutput, goDescriptor, outputBlobs, type BuiltOutput } from "../image/build-image.ts";
import type { LayerContext } from "../../image/image-layers.ts";
import { copyBlobs } from "../../content/put-in-store.ts";
import { writeLayout } from "../../image/layout-dir.ts";
import type { ContentStore } from "../../worker/content-store.ts";
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
  /**
   * With tar=false, the client's content store ("export" in its session): the image's blobs go
   * there and the client tags its layout's index.json from the response, as buildctl does.
   * Without one, tar=false writes the layout at dest itself.
   */
  readonly store?: () => ContentStore;
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
      rejectUnknownAttrs(format, attrs, knownImageAttrs(attrs, ["dest", "tar"]));
      const raw = requireDest(format, attrs);
      const image = parseImageOptions(format, attrs, DEFAULTS[format]);
      // tar=false: an OCI image layout directory instead of an archive (BuildKit's oci exporter).
      const tar = parseBool(format, "tar", attrs.tar, true);
      if (!tar && raw === "-" && !opts.store) throw invalidArgument(`output type=${format}: tar=false writes a directory; dest cannot be stdout`);
      const dest = raw === "-" ? "-" : resolve(raw);
      const where = dest === "-" ? "stdout" : dest;
      return {
        description: `exporting to ${format} image format`,
        async export(result: BuildResult, signal: AbortSignal, progress = NO_EXPORT_PROGRESS) {
          try {
            const p = { format, image, dest, stdout: opts.stdout, signal, progress };
            return await (tar ? exportArchive(result, p) : exportLayout(result, { ...p, store: opts.store }));
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

/** The image (or index) the export writes, its top descriptor dated as BuildKit's oci exporter dates it (org.opencontainers.image.created). */
async function datedOutput(result: BuildResult, ctx: LayerContext, p: ArchiveExport): Promise<BuiltOutput> {
  // docker's archive holds one image: no manifest list, as BuildKit's docker exporter says.
  if (p.format === "docker" && result.platforms) throw invalidArgument("docker exporter does not currently support exporting manifest lists");
  const made = await buildOutput(result, ctx, { ...p.image, signal: p.signal, exporter: p.format, progress: p.progress });
  const created = rfc3339Seconds(p.image.epoch === undefined ? Date.now() : p.image.epoch * 1000);
  return { ...made, top: goDescriptor({ ...made.top, annotations: { [ANNOTATION_CREATED]: created, ...made.top.annotations } }) };
}

/**
 * tar=false: the image's blobs (layers, configs, manifests, the index) in an OCI layout: the
 * client's store, which the client tags; or, daemonless, the directory dest, written whole with
 * the top descriptor tagged by the image's name(s), else "latest", as buildctl tags it.
 */
function exportLayout(result: BuildResult, p: ArchiveExport & { readonly store: (() => ContentStore) | undefined }): Promise<Record<string, string>> {
  return withImageContext(result, async (ctx) => {
    const built = await datedOutput(result, ctx, p);
    const blobs = outputBlobs(built);
    const name = p.image.names.map(formatImageRef).join(",") || undefined;
    if (p.store) {
      const store = p.store();
      await p.progress.step("sending blobs to the client", () => copyBlobs(store, ctx.store, blobs, p.signal));
    } else {
      // A blob listed twice (the single image's manifest is also the top) is written once: writeLayout skips what it has.
      await p.progress.step(`writing layout ${p.dest}`, () => writeLayout(p.dest, name ?? "latest", built.top, blobs.map((desc) => ({ desc })), ctx.store));
    }
    return imageResponse(built, name);
  });
}

function exportArchive(result: BuildResult, p: ArchiveExport): Promise<Record<string, string>> {
  return withImageContext(result, async (ctx) => {
    const built = await datedOutput(result, ctx, p);
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
