// A warning event through each consumer: Status encoding and back (control.proto VertexWarning
// with pb.SourceInfo / pb.Range bytes), trace and rawjson records, the plain printer's line.
import { describe, expect, test } from "bun:test";
import { sha256 } from "../../../src/core/digest.ts";
import type { ProgressEvent, ProgressWarning } from "../../../src/core/progress/events.ts";
import { addToStatus, eventsOfStatus, type StatusBatch } from "../../../src/api/control/status.ts";
import { apiPb } from "../../../src/api/pb/index.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { local } from "../../../src/core/llb/index.ts";
import { warningFromJson, warningToJson } from "../../../src/core/progress/warning-json.ts";
import { createPlainPrinter } from "../../../src/ui/plain.ts";
import { createRawJSONPrinter } from "../../../src/ui/rawjson.ts";
import { createProgressState } from "../../../src/core/progress/collector.ts";

const V = sha256("dockerfile local");
const definition = local("dockerfile", { sessionId: "s1", followPaths: ["Dockerfile"] }).marshal();
const data = new TextEncoder().encode("FROM x\nRUN a \\\n\n  b\n");
const WARNING: ProgressWarning = {
  type: "warning",
  vertex: V,
  level: 1,
  short: "Empty continuation line found in: RUN a   b",
  detail: ["Empty continuation lines will become errors in a future release"],
  url: "https://github.com/moby/moby/pull/33719",
  source: { info: { filename: "Dockerfile", data, definition }, ranges: [{ start: { line: 4, character: 0 }, end: { line: 4, character: 0 } }] },
};

describe("warning events", () => {
  test("a Status response carries it as control.proto's VertexWarning, and reads back the same", () => {
    const batch: StatusBatch = { vertexes: [], statuses: [], logs: [], warnings: [] };
    addToStatus(batch, WARNING);
    const bytes = apiPb.moby.buildkit.v1.StatusResponse.encode(batch).finish();
    const res = apiPb.moby.buildkit.v1.StatusResponse.decode(bytes);
    const w = res.warnings[0]!;
    expect(w.vertex).toBe(V);
    expect(w.level).toBe(1);
    expect(new TextDecoder().decode(w.short!)).toBe(WARNING.short);
    expect(w.url).toBe(WARNING.url!);
    // info is pb.SourceInfo: filename 1, data 2, definition 3 (the definition's own bytes).
    const info = pb.SourceInfo.decode(w.info!);
    expect(info.filename).toBe("Dockerfile");
    expect(Buffer.from(info.data!).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(pb.Definition.encode(info.definition!).finish()).equals(Buffer.from(definition))).toBe(true);
    // Go writes no zero fields: a Position with only its line.
    expect(pb.Range.decode(w.ranges![0]!).start?.line).toBe(4);
    expect([...w.ranges![0]!]).toEqual([...pb.Range.encode({ start: { line: 4 }, end: { line: 4 } }).finish()]);
    expect(eventsOfStatus(res)).toEqual([WARNING]);
  });

  test("level 0 on the wire is a warning (1), as BuildKit's bridge has it", () => {
    const [e] = eventsOfStatus({ warnings: [{ vertex: V, short: new TextEncoder().encode("w") }] });
    expect(e).toEqual({ type: "warning", vertex: V, level: 1, short: "w", detail: [] });
  });

  test("JSON (trace, rawjson) keeps the source bytes as base64 and reads back the same", () => {
    const json = warningToJson(WARNING);
    expect(json.source?.info.data).toBe(Buffer.from(data).toString("base64"));
    expect(warningFromJson(JSON.parse(JSON.stringify(json)))).toEqual(WARNING);
    let out = "";
    const raw = createRawJSONPrinter({ write: (s) => (out += s) });
    raw.write(WARNING);
    expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(json)));
  });

  test("the plain printer prints `#N WARN: <short>` under its vertex, as BuildKit's printer", () => {
    let out = "";
    const p = createPlainPrinter({ write: (s) => (out += s) }, { startTime: 1000 });
    const vertex = (fields: Partial<Extract<ProgressEvent, { type: "vertex" }>>): ProgressEvent => ({ type: "vertex", digest: V, name: "[internal] load build definition from Dockerfile", inputs: [], ...fields });
    p.write(vertex({ started: 1000 }));
    p.write(WARNING);
    p.write(vertex({ started: 1000, completed: 1100 }));
    expect(out).toBe("#1 [internal] load build definition from Dockerfile\n#1 WARN: Empty continuation line found in: RUN a   b\n#1 DONE 0.1s\n");
  });

  test("a warning after the vertex finished: its header again, then its last line again", () => {
    let out = "";
    const p = createPlainPrinter({ write: (s) => (out += s) }, { startTime: 1000 });
    const other = sha256("other");
    p.write({ type: "vertex", digest: V, name: "load", inputs: [], started: 1000, completed: 1100 });
    p.write({ type: "vertex", digest: other, name: "other", inputs: [], started: 1100 });
    p.write(WARNING);
    p.write({ ...WARNING, vertex: sha256("never seen") });
    expect(out).toBe("#1 load\n#1 DONE 0.1s\n\n#2 other\n#2 ...\n\n#1 load\n#1 WARN: Empty continuation line found in: RUN a   b\n#1 DONE 0.1s\n");
  });

  test("the folded state lists a vertex's warnings (the tty's rows)", () => {
    const s = createProgressState();
    s.apply({ type: "vertex", digest: V, name: "load", inputs: [], started: 1 });
    s.apply(WARNING);
    expect(s.get(V)?.warnings).toEqual([WARNING]);
  });
});
