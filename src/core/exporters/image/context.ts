/** The content store and its index under a worker's root, opened together for one export. */
import type { LayerContext } from "../image-layers.ts";
import { ContentIndex } from "../../content/index-db.ts";
import { ContentStore } from "../../content/store.ts";

export function openImageContext(root: string): LayerContext {
  const store = new ContentStore(root);
  return { store, index: ContentIndex.open(store.dir) };
}
