import type { ProgressEvent, ProgressWriter } from "../core/progress/events.ts";
import { warningToJson } from "../core/progress/warning-json.ts";

/**
 * `--progress=rawjson`: one JSON object per line per event, in our ProgressEvent shape (not
 * BuildKit's batched SolveStatus): `{"type":"vertex","digest":…,"name":…,"inputs":[…],"started":…}`,
 * `{"type":"status","vertex":…,"id":…,"current":…,"total":…}`, and
 * `{"type":"log","vertex":…,"stream":1|2,"time":…,"data":"<base64>"}`, and
 * `{"type":"warning","vertex":…,"level":1,"short":…,"detail":[…],"url":…,"source":{"info":{"filename":…,
 * "data":"<base64>","definition":"<base64>"},"ranges":[…]}}`. Times are ms since the
 * epoch; log bytes are base64 as in BuildKit's rawjson, since they need not be text.
 */
export function createRawJSONPrinter(out: { write(s: string): void }): ProgressWriter {
  let closed = false;
  return {
    write(e: ProgressEvent): void {
      if (closed) return;
      const record = e.type === "log" ? { ...e, data: base64(e.data) } : e.type === "warning" ? warningToJson(e) : e;
      out.write(`${JSON.stringify(record)}\n`);
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
}

function base64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
}
