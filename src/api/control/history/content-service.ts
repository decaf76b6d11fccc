/**
 * containerd's content service (Info, Read) on the daemon's own endpoint, as buildkitd serves
 * it: the blobs its build history names (a build's progress log, `buildctl debug get DIGEST`)
 * and the worker's content store behind them.
 */
import type { ContentService } from "../../../backends/containerd/services.ts";
import { BuildkitError } from "../../../core/errors.ts";
import { isDigest } from "../../../core/digest.ts";
import type { ContentStore } from "../../../core/worker/content-store.ts";
import type { ServiceHandlers } from "../../grpc/handlers.ts";
import type { BuildHistory } from "./history.ts";

export function contentHandlers(deps: { history: BuildHistory; content: ContentStore }): ServiceHandlers<typeof ContentService> {
  const find = async (digest: string): Promise<{ size: number; read(offset: number, size: number): AsyncIterable<Uint8Array> }> => {
    if (!isDigest(digest)) throw new BuildkitError("InvalidArgument", `content: ${JSON.stringify(digest)} is not a digest`);
    const blob = deps.history.blob(digest);
    if (blob) return { size: blob.size, read: (offset, size) => Bun.file(blob.path).slice(offset, size > 0 ? offset + size : undefined).stream() };
    const info = await deps.content.info(digest);
    if (!info) throw new BuildkitError("NotFound", `content ${digest}: not found`);
    return { size: info.size, read: (offset, size) => streamRange(deps.content.read(digest), offset, size) };
  };
  return {
    async Info(req) {
      const digest = req.digest ?? "";
      const { size } = await find(digest);
      return { info: { digest, size } };
    },
    async Read(req, call) {
      const blob = await find(req.digest ?? "");
      let offset = Number(req.offset ?? 0);
      for await (const data of blob.read(offset, Number(req.size ?? 0))) {
        if (call.signal.aborted) return;
        await call.send({ offset, data });
        offset += data.byteLength;
      }
    },
  };
}

/** The same range of a stream, skipping what comes before offset. */
async function* streamRange(stream: ReadableStream<Uint8Array>, offset: number, size: number): AsyncGenerator<Uint8Array> {
  let at = 0;
  const end = size > 0 ? offset + size : Infinity;
  for await (const chunk of stream) {
    const from = Math.max(0, offset - at);
    const to = Math.min(chunk.byteLength, end - at);
    if (to > from) yield chunk.subarray(from, to);
    at += chunk.byteLength;
    if (at >= end) return;
  }
}
