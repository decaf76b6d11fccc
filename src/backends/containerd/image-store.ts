// Exported images, named in containerd's image store (`ctr -n NAMESPACE images ls` shows them).
import type { ImageStore } from "../../core/worker/image-store.ts";
import { BuildkitError } from "../../core/errors.ts";
import type { ContainerdClient } from "./client.ts";
import { ImagesService } from "./services.ts";

export function createContainerdImageStore(client: ContainerdClient): ImageStore {
  return {
    async put(name, target) {
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
