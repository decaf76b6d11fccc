import { expect, test } from "bun:test";
import { sha256 } from "../../../src/core/digest.ts";
import type { ProgressEvent } from "../../../src/core/progress/events.ts";
import { createRawJSONPrinter } from "../../../src/ui/rawjson.ts";

test("rawjson prints one parseable JSON line per event, log data as base64", async () => {
  const A = sha256("a");
  let out = "";
  const p = createRawJSONPrinter({ write: (s) => (out += s) });
  const bytes = new Uint8Array([0x68, 0x69, 0x0a, 0xff]);
  const events: ProgressEvent[] = [
    { type: "vertex", digest: A, name: "RUN echo hi", inputs: [], started: 1 },
    { type: "status", vertex: A, id: "sha256:abcd", current: 5, total: 10 },
    { type: "log", vertex: A, stream: 2, data: bytes.subarray(1), time: 3 },
  ];
  for (const e of events) p.write(e);
  await p.close();
  p.write(events[0] as ProgressEvent);

  const lines = out.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines).toHaveLength(3);
  expect(lines[0]).toEqual({ type: "vertex", digest: A, name: "RUN echo hi", inputs: [], started: 1 });
  expect(lines[1]).toEqual({ type: "status", vertex: A, id: "sha256:abcd", current: 5, total: 10 });
  expect(lines[2]).toEqual({ type: "log", vertex: A, stream: 2, data: "aQr/", time: 3 });
  expect(new Uint8Array(Buffer.from(String(lines[2]?.data), "base64"))).toEqual(bytes.subarray(1));
});
