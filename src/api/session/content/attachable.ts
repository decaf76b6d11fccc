/**
 * Client side of BuildKit's session/content attachable: containerd's Content service over the
 * session, answering from the client's stores by the id in the `buildkit-attachable-store-id`
 * metadata ("local:"+DIR for a local cache directory). An unknown id is NotFound.
 * Read and List are server streams carried as bidi calls: one request, then the replies.
 * Write follows containerd's contentserver: STAT reports the ingest, WRITE appends at the
 * current offset (offset 0 on a started ingest starts over), COMMIT verifies and stores.
 */
import { BuildkitError } from "../../../core/errors.ts";
import { bidiHandler, firstValue, unaryHandler, type HandlerContext, type MessageStream, type SessionHandler } from "../session.ts";
import { contentAbort, contentDelete, contentInfo, contentList, contentRead, contentWrite, STORE_ID_HEADER, WriteAction } from "./methods.ts";
import type { ListRequest, ListResponse, ReadRequest, ReadResponse, WriteRequest, WriteResponse } from "./methods.ts";
import type { BlobInfo, Ingest, LocalContentStore } from "./local-store.ts";

/** Infos per ListContent reply. */
const LIST_BATCH = 100;

function timestamp(d: Date): { seconds: number; nanos: number } {
  const ms = d.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

function infoMessage(info: BlobInfo) {
  return { digest: info.digest, size: info.size, created_at: timestamp(info.createdAt), updated_at: timestamp(info.updatedAt) };
}

function chooser(stores: ReadonlyMap<string, LocalContentStore>) {
  return (ctx: HandlerContext): LocalContentStore => {
    const id = firstValue(ctx.metadata, STORE_ID_HEADER);
    if (id === undefined) throw new BuildkitError("InvalidArgument", `request lacks metadata "${STORE_ID_HEADER}"`);
    const store = stores.get(id);
    if (store === undefined) throw new BuildkitError("NotFound", `unknown store ${id}`);
    return store;
  };
}

/** The Content service's handlers over `stores` (store id → store). */
export function contentHandlers(stores: ReadonlyMap<string, LocalContentStore>): SessionHandler[] {
  const choose = chooser(stores);
  return [
    unaryHandler(contentInfo, async (req, ctx) => ({ info: infoMessage(await choose(ctx).info(req.digest ?? "")) })),
    unaryHandler(contentDelete, async (req, ctx) => {
      await choose(ctx).delete(req.digest ?? "");
      return {};
    }),
    unaryHandler(contentAbort, async (req, ctx) => {
      await choose(ctx).abort(req.ref ?? "");
      return {};
    }),
    bidiHandler(contentRead, async (stream, ctx) => serveRead(choose(ctx), stream)),
    bidiHandler(contentList, async (stream, ctx) => serveList(choose(ctx), stream)),
    bidiHandler(contentWrite, async (stream, ctx) => serveWrite(choose(ctx), stream)),
  ];
}

async function serveRead(store: LocalContentStore, stream: MessageStream<ReadRequest, ReadResponse>): Promise<void> {
  const req = await stream.recv();
  if (req === undefined) throw new BuildkitError("InvalidArgument", "read: no request");
  for await (const chunk of store.read(req.digest ?? "", Number(req.offset ?? 0), Number(req.size ?? 0))) {
    if (stream.signal.aborted) return;
    await stream.send(chunk);
  }
}

async function serveList(store: LocalContentStore, stream: MessageStream<ListRequest, ListResponse>): Promise<void> {
  const req = await stream.recv();
  if ((req?.filters ?? []).some((f) => f !== "")) throw new BuildkitError("Unimplemented", "list: filters are not supported by the client's local content store");
  const infos = await store.list();
  for (let i = 0; i < infos.length; i += LIST_BATCH) await stream.send({ info: infos.slice(i, i + LIST_BATCH).map(infoMessage) });
}

async function serveWrite(store: LocalContentStore, stream: MessageStream<WriteRequest, WriteResponse>): Promise<void> {
  let ingest: Ingest | undefined;
  try {
    for (;;) {
      const req = await stream.recv();
      if (req === undefined) return;
      const total = Number(req.total ?? 0);
      const expected = req.expected ?? "";
      if (ingest === undefined) ingest = await store.openIngest(req.ref ?? "", total, expected);
      else ingest.expect(total, expected);
      const action = req.action ?? WriteAction.STAT;
      const reply: WriteResponse = { action, started_at: timestamp(ingest.startedAt), updated_at: timestamp(ingest.updatedAt), offset: ingest.offset, total: ingest.total };
      if (action === WriteAction.WRITE || action === WriteAction.COMMIT) {
        const offset = Number(req.offset ?? 0);
        if (offset > 0 && offset !== ingest.offset) {
          throw new BuildkitError("InvalidArgument", `write @${offset} must occur at current offset ${ingest.offset}`);
        }
        if (offset === 0 && ingest.offset > 0) await ingest.truncate();
        if (req.data && req.data.byteLength > 0) await ingest.write(req.data);
        reply.offset = ingest.offset;
        if (action === WriteAction.COMMIT) {
          reply.digest = await ingest.commit(total, expected);
        }
      } else if (action !== WriteAction.STAT) {
        throw new BuildkitError("InvalidArgument", `write: unknown action ${action}`);
      }
      await stream.send(reply);
    }
  } finally {
    if (ingest !== undefined) store.release(ingest.ref);
  }
}
