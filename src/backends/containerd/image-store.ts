// Exported images, named in containerd's image store (`ctr -n NAMESPACE images ls` shows them),
// their blobs labelled first so containerd's GC sees what the image refers to (gc-labels.ts).
import { readBlob } from "../../core/content/blobs.ts";
import { BuildkitError } from "../../core/errors.ts";
import type { ContentStore } from "../../core/worker/content-store.ts";
import type { ImageStore } from "../../core/worker/image-store.ts";
import type { ContainerdClient } from "./client.ts";
import { labelImage } from "./gc-labels.ts";
import { ImagesService } from "./services.ts";

export function createContainerdImageStore(client: ContainerdClient, opts: { content: ContentStore; snapshotter: string }): ImageStore {
  const readJson = async (digest: Parameters<ContentStore["info"]>[0]) => JSON.parse(new TextDecoder().decode(await readBlob(opts.content, digest))) as unknown;
  return {
    async put(name, target, put = {}) {
      await labelImage(client, readJson, target, { snapshotter: opts.snapshotter, ...(put.snapshot !== undefined ? { snapshot: put.snapshot } : {}) });
      const image = { name, target: { media_type: target.mediaType, digest: target.digest, size: target.size } };
      try {
        await client.unary(`naming image ${name}`, ImagesService.methods.Create, { image });
      } catch (err) {
        if (!(err instanceof BuildkitError && err.code === "AlreadyExists")) throw err;
        await client.unary(`naming image ${name}`, ImagesService.methods.Update, { image });
      }
    },
  };
}
