/** The content store and its index under a build result's worker root, opened together for one export. */
import { BuildkitError } from "../../errors.ts";
import type { BuildResult } from "../exporter.ts";
import type { LayerContext } from "../../image/image-layers.ts";
import { ContentIndex } from "../../content/index-db.ts";
import { ContentStore } from "../../content/store.ts";

/** Runs `use` with the result's worker's content store and index (the root too); the index is closed after. */
export async function withImageContext<T>(result: BuildResult, use: (ctx: LayerContext, root: string) => Promise<T>): Promise<T> {
  const root = result.worker?.root;
  if (root === undefined) throw new BuildkitError("FailedPrecondition", "the result's worker is not available");
  const store = new ContentStore(root);
  const ctx: LayerContext = { store, index: ContentIndex.open(store.dir) };
  try {
    return await use(ctx, root);
  } finally {
    ctx.index.close();
  }
}
