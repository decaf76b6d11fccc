/**
 * Client side of FileSend.DiffCopy: receives an export (BuildKit's fsSyncTarget). For
 * `--output type=local` the daemon sends the result's files, written into the destination over
 * what is there (same names replaced, nothing removed) and owned by the client's user; for
 * `type=tar` (and other single-file outputs) a byte stream, written to a Writable.
 */
import { mkdirSync } from "node:fs";
import type { Writable } from "node:stream";
import { BuildkitError } from "../../../core/errors.ts";
import { checkReceivedPath } from "../../client/client-paths.ts";
import { fileSendBytes, fileSendPackets } from "../methods.ts";
import type { BytesMessage } from "../methods.ts";
import { bidiHandler } from "../session.ts";
import type { MessageStream, SessionHandler } from "../session.ts";
import { keyExporterMetaPrefix } from "./metadata.ts";
import { receiveDir } from "./receive.ts";

export type FileSendTarget =
  | { readonly kind: "dir"; readonly dir: string; readonly onProgress?: (bytes: number, done: boolean) => void }
  | {
      readonly kind: "writer";
      /** Opens the output for the exporter's metadata; undefined: it exists and may not be replaced. */
      open(metadata: Record<string, string>): Promise<Writable | undefined>;
    };

export function fileSendHandler(target: FileSendTarget): SessionHandler {
  switch (target.kind) {
    case "dir":
      return bidiHandler(fileSendPackets, async (stream, { signal }) => {
        mkdirSync(target.dir, { recursive: true, mode: 0o700 });
        const uid = process.getuid?.() ?? 0;
        const gid = process.getgid?.() ?? 0;
        await receiveDir(target.dir, stream, {
          merge: true,
          filter: (path, stat) => {
            checkReceivedPath(path); // names that would mean something else on this platform (Windows)
            [stat.uid, stat.gid] = [uid, gid];
            return true;
          },
          ...(target.onProgress ? { onProgress: target.onProgress } : {}),
          signal,
        });
      });
    case "writer":
      return bidiHandler(fileSendBytes, async (stream, { metadata }) => {
        const md: Record<string, string> = {};
        for (const [key, values] of Object.entries(metadata)) {
          if (key.startsWith(keyExporterMetaPrefix)) md[key.slice(keyExporterMetaPrefix.length)] = values.join(",");
        }
        const out = await target.open(md);
        if (!out) throw new BuildkitError("AlreadyExists", "receiving export: target already exists");
        await writeStreamTo(stream, out);
      });
    default: {
      const never: never = target;
      throw new Error(`unknown target ${String(never)}`);
    }
  }
}

/** Writes every chunk received to `out`, honouring its backpressure, then ends it. */
export async function writeStreamTo(stream: MessageStream<BytesMessage, BytesMessage>, out: Writable): Promise<void> {
  const failed = new Promise<never>((_, reject) => out.once("error", reject));
  failed.catch(() => undefined);
  for (let msg = await stream.recv(); msg; msg = await stream.recv()) {
    if (msg.data.length > 0 && !out.write(msg.data)) await Promise.race([new Promise((r) => out.once("drain", r)), failed]);
  }
  await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
}
