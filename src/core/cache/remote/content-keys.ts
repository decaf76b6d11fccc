/**
 * BuildKit's content keys of op inputs (contenthash over the selected paths) for our results:
 * the input's snapshot is viewed and checksummed. A local source's tree is hashed as BuildKit
 * hashes the files a client sends (see contenthash/tree.ts). A path that is not there gives no
 * key, as it gives BuildKit an error rather than a key.
 */
import type { Digest } from "../../digest.ts";
import type { LoadedOp } from "../../llb/definition.ts";
import { withView } from "../../worker/snapshots.ts";
import type { Worker } from "../../worker/worker.ts";
import { contentHash } from "../contenthash/index.ts";
import type { CacheMapDep } from "./buildkit-cache-map.ts";

const isLocalSource = (op: LoadedOp | undefined): boolean => op?.op.op === "source" && (op.op.source?.identifier ?? "").startsWith("local://");

/** The content digest of `snapshot` (made by `producer`) for dep; undefined when it has none. */
export async function inputContentDigest(worker: Worker, snapshot: string, producer: LoadedOp | undefined, dep: CacheMapDep): Promise<Digest | undefined> {
  if (dep.contentSelectors === undefined) return undefined;
  const selectors = dep.contentSelectors;
  try {
    return await withView(worker, snapshot, (dir) => contentHash(dir, selectors, { localSource: isLocalSource(producer) }));
  } catch {
    return undefined;
  }
}
