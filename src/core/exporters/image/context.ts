/** The worker's content store and the content index under its root, opened together for one export. */
import { BuildkitError } from "../../errors.ts";
import type { BuildResult } from "../exporter.ts";
import type { LayerContext } from "../../image/image-layers.ts";
import { ContentIndex } from "../../content/index-db.ts";
import { statePath } from "../../worker/storage.ts";

/** Runs `use` with the result's worker's content store and index (the root too); the index is closed after. */
export async function withImageContext<T>(result: BuildResult, use: (ctx: LayerContext, root: string) => Promise<T>): Promise<T> {
  const worker = result.worker;
  if (worker === undefined) throw new BuildkitError("FailedPrecondition", "the result's worker is not available");
  const ctx: LayerContext = { store: worker.content, index: ContentIndex.open(statePath(worker.root, "content")) };
  try {
    return await use(ctx, worker.root);
  } finally {
    ctx.index.close();
  }
}
