/**
 * `--output type=image,name=REF[,push=true]`: the result as an image. Layers are diffed from
 * the result's snapshots into the worker's content store, the image is named in the worker's
 * images index (ROOT/images.json: the standalone worker's stand-in for containerd's image
 * store), and with push=true pushed to the registry REF names.
 */
import { invalidArgument, withContext } from "../../errors.ts";
import { formatImageRef } from "../../reference/docker-ref.ts";
import type { ImageRef } from "../../reference/docker-ref.ts";
import type { RegistryClient } from "../../registry/index.ts";
import type { BuildResult, Exporter, ExporterInstance } from "../exporter.ts";
import { rejectUnknownAttrs } from "../spec.ts";
import { IMAGE_ATTRS, parseBool, parseImageOptions } from "./attrs.ts";
import type { ImageOptions } from "./attrs.ts";
import { buildImage } from "./build-image.ts";
import type { BuiltImage } from "./build-image.ts";
import { withImageContext } from "./context.ts";
import { storeImage } from "../../content/local-images.ts";
import { pushImage } from "./push.ts";

export interface ImageExporterOptions {
  /** The registry client for push=true (made once, on the first push). */
  readonly registry?: () => Promise<RegistryClient>;
}

export function createImageExporter(opts: ImageExporterOptions = {}): Exporter {
  let client: Promise<RegistryClient> | undefined;
  const registry = opts.registry && (() => (client ??= opts.registry!()));
  return {
    type: "image",
    resolve(attrs): ExporterInstance {
      rejectUnknownAttrs("image", attrs, [...IMAGE_ATTRS, "push"]);
      const image = parseImageOptions("image", attrs, { compression: "gzip", oci: true });
      const [ref] = image.names;
      if (!ref) throw invalidArgument("output type=image: name is required");
      const push = parseBool("image", "push", attrs.push, false);
      if (push && !registry) throw invalidArgument("output type=image: push=true needs a registry client, and none was configured");
      const name = formatImageRef(ref);
      return {
        description: push ? `exporting image ${name} and pushing it` : `exporting image ${name}`,
        async export(result: BuildResult, signal: AbortSignal) {
          try {
            return await exportImage(result, { image, ref, name, client: push ? await registry?.() : undefined, signal });
          } catch (err) {
            throw withContext(`exporting image ${name}`, err);
          }
        },
      };
    },
  };
}

interface ExportParams {
  readonly image: ImageOptions;
  readonly ref: ImageRef;
  readonly name: string;
  readonly client: RegistryClient | undefined;
  readonly signal: AbortSignal;
}

function exportImage(result: BuildResult, p: ExportParams): Promise<Record<string, string>> {
  return withImageContext(result, async (ctx, root) => {
    const built = await buildImage(result, ctx, { ...p.image, signal: p.signal });
    await storeImage(root, p.name, built.manifest);
    await result.worker?.images?.put(p.name, built.manifest, { snapshot: result.snapshot });
    if (p.client) await pushImage(p.client, p.ref, built, ctx, p.signal);
    return imageResponse(built, p.name);
  });
}

/** BuildKit's response keys for an image export. */
export function imageResponse(built: BuiltImage, name: string | undefined): Record<string, string> {
  const response: Record<string, string> = {
    "containerimage.digest": built.manifest.digest,
    "containerimage.config.digest": built.config.digest,
    "containerimage.descriptor": Buffer.from(JSON.stringify(built.manifest)).toString("base64"),
  };
  if (name !== undefined) response["image.name"] = name;
  return response;
}
