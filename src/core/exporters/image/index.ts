/**
 * `--output type=image[,name=REF[,REF2]][,push=true]`: the result as an image, as BuildKit's
 * containerimage exporter makes it. Layers are diffed from the result's snapshots into the
 * worker's content store; each name is given to it in the worker's image store (ROOT/images.json
 * for the standalone worker, containerd's for the containerd worker) unless store=false, and with
 * push=true the image is pushed to each. Without a name the image is only made (push has no
 * target then, as in BuildKit), or named PREFIX@DIGEST with dangling-name-prefix.
 */
import { invalidArgument, withContext } from "../../errors.ts";
import { formatImageRef } from "../../reference/docker-ref.ts";
import type { ImageRef } from "../../reference/docker-ref.ts";
import type { RegistryClient } from "../../registry/index.ts";
import { NO_EXPORT_PROGRESS, type BuildResult, type Exporter, type ExporterInstance, type ExportProgress } from "../exporter.ts";
import { rejectUnknownAttrs } from "../spec.ts";
import { knownImageAttrs, parseBool, parseImageOptions } from "./attrs.ts";
import type { ImageOptions } from "./attrs.ts";
import { buildOutput, goDescriptor } from "./build-image.ts";
import type { BuiltOutput } from "./build-image.ts";
import { withImageContext } from "./context.ts";
import { goJSON } from "../../go-json.ts";
import { storeImage } from "../../content/local-images.ts";
import { pushImage } from "./push.ts";

export interface ImageExporterOptions {
  /** The registry client for push=true (made once, on the first push). */
  readonly registry?: () => Promise<RegistryClient>;
}

/**
 * The type=image attributes besides the shared ones (exporter/containerimage/export.go). unpack
 * changes nothing: an image named in either worker's store is usable as it is.
 */
const OWN_ATTRS = ["push", "push-by-digest", "registry.insecure", "unpack", "store", "name-canonical", "dangling-name-prefix", "unsafe-internal-store-allow-incomplete"];

interface ImageExport {
  readonly image: ImageOptions;
  /** The name attribute as given, when not empty. */
  readonly name: string | undefined;
  readonly push: boolean;
  readonly pushByDigest: boolean;
  readonly insecure: boolean;
  readonly store: boolean;
  readonly nameCanonical: boolean;
  readonly danglingPrefix: string;
}

export function createImageExporter(opts: ImageExporterOptions = {}): Exporter {
  let client: Promise<RegistryClient> | undefined;
  const registry = opts.registry && (() => (client ??= opts.registry!()));
  return {
    type: "image",
    resolve(attrs): ExporterInstance {
      rejectUnknownAttrs("image", attrs, knownImageAttrs(attrs, OWN_ATTRS));
      const bool = (key: string, fallback = false) => parseBool("image", key, attrs[key], fallback);
      const spec: ImageExport = {
        image: parseImageOptions("image", attrs, { compression: "gzip", oci: false }),
        name: attrs.name || undefined,
        push: bool("push"),
        pushByDigest: bool("push-by-digest"),
        insecure: bool("registry.insecure"),
        store: bool("store", true),
        nameCanonical: bool("name-canonical"),
        danglingPrefix: attrs["dangling-name-prefix"] ?? "",
      };
      bool("unpack");
      bool("unsafe-internal-store-allow-incomplete");
      const pushes = spec.push && spec.image.names.length > 0;
      if (pushes && !registry) throw invalidArgument("output type=image: push=true needs a registry client, and none was configured");
      const names = spec.image.names.map(formatImageRef).join(",");
      const what = names ? `image ${names}` : "image";
      return {
        description: "exporting to image",
        async export(result: BuildResult, signal: AbortSignal, progress = NO_EXPORT_PROGRESS) {
          try {
            return await exportImage(result, spec, { client: pushes ? await registry?.() : undefined, signal, progress });
          } catch (err) {
            throw withContext(`exporting ${what}`, err);
          }
        },
      };
    },
  };
}

interface ExportRun {
  readonly client: RegistryClient | undefined;
  readonly signal: AbortSignal;
  readonly progress: ExportProgress;
}

function exportImage(result: BuildResult, spec: ImageExport, run: ExportRun): Promise<Record<string, string>> {
  const { client, signal, progress } = run;
  return withImageContext(result, async (ctx, root) => {
    const built = await buildOutput(result, ctx, { ...spec.image, signal, exporter: "image", progress, forceInlineAttestations: true });
    const refs = spec.image.names;
    const storeNames = refs.length > 0 ? refs.flatMap((r) => storedNames(r, built, spec.nameCanonical)) : spec.danglingPrefix ? [`${spec.danglingPrefix}@${built.top.digest}`] : [];
    if (spec.store) {
      for (const name of storeNames) {
        await progress.step(`naming to ${name}`, async () => {
          await storeImage(root, name, built.top);
          await result.worker?.images?.put(name, built.top, { snapshot: result.snapshot });
        });
      }
    }
    if (client) {
      for (const ref of refs) {
        const target = spec.insecure ? client.insecure(ref.domain) : client;
        await pushImage(target, ref, built, ctx, { byDigest: spec.pushByDigest, signal, progress });
      }
    }
    // image.name as given (BuildKit's type=image answers with its name attribute unchanged).
    return imageResponse(built, spec.name ?? storeNames[0]);
  });
}

/** NAME, and NAME@DIGEST too with name-canonical. */
function storedNames(ref: ImageRef, built: BuiltOutput, canonical: boolean): string[] {
  const name = formatImageRef(ref);
  return canonical ? [name, `${name}@${built.top.digest}`] : [name];
}

/** BuildKit's response keys for an image export: the top descriptor's (the index's for several platforms). */
export function imageResponse(built: BuiltOutput, name: string | undefined): Record<string, string> {
  const response: Record<string, string> = {
    "containerimage.digest": built.top.digest,
    ...(built.config ? { "containerimage.config.digest": built.config.digest } : {}),
    "containerimage.descriptor": Buffer.from(goJSON(goDescriptor(built.top))).toString("base64"),
  };
  if (name !== undefined) response["image.name"] = name;
  return response;
}
