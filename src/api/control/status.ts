// ProgressEvents as BuildKit's StatusResponse messages (moby.buildkit.v1), and back: the daemon
// streams a build's progress with the first, our remote client displays it with the second.
import type { Digest } from "../../core/digest.ts";
import type { ProgressEvent } from "../../core/progress/events.ts";
import type { apiPb } from "../pb/index.ts";
import { warningFields, warningOfFields } from "./warning-pb.ts";

type StatusResponse = apiPb.moby.buildkit.v1.StatusResponse.$Properties;

/** A StatusResponse being filled: every list present. */
export interface StatusBatch {
  vertexes: apiPb.moby.buildkit.v1.Vertex.$Properties[];
  statuses: apiPb.moby.buildkit.v1.VertexStatus.$Properties[];
  logs: apiPb.moby.buildkit.v1.VertexLog.$Properties[];
  warnings: apiPb.moby.buildkit.v1.VertexWarning.$Properties[];
}
type Timestamp = apiPb.google.protobuf.Timestamp.$Properties;

export function timestamp(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export function millis(t: Timestamp | null | undefined): number | undefined {
  if (!t) return undefined;
  return (t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

/** Appends one event to a response being batched. */
export function addToStatus(res: StatusBatch, e: ProgressEvent): void {
  switch (e.type) {
    case "vertex":
      res.vertexes.push({
        digest: e.digest,
        inputs: [...e.inputs],
        name: e.name,
        cached: e.cached ?? false,
        ...(e.started === undefined ? {} : { started: timestamp(e.started) }),
        ...(e.completed === undefined ? {} : { completed: timestamp(e.completed) }),
        ...(e.error === undefined ? {} : { error: e.error }),
      });
      break;
    case "status": {
      const now = Date.now();
      res.statuses.push({
        ID: e.id,
        vertex: e.vertex,
        name: e.id,
        current: e.current,
        ...(e.total === undefined ? {} : { total: e.total }),
        timestamp: timestamp(now),
        ...(e.started === undefined ? {} : { started: timestamp(e.started) }),
        ...(e.completed === undefined ? {} : { completed: timestamp(e.completed) }),
      });
      break;
    }
    case "log":
      res.logs.push({ vertex: e.vertex, stream: e.stream, msg: e.data, timestamp: timestamp(e.time) });
      break;
    case "warning":
      res.warnings.push({ vertex: e.vertex, ...warningFields(e) });
      break;
    default: {
      const never: never = e;
      throw new Error(`unknown progress event ${JSON.stringify(never)}`);
    }
  }
}

/** The events one StatusResponse carries, in the order displays expect: vertices, statuses, warnings, logs (BuildKit's printer's). */
export function eventsOfStatus(res: StatusResponse): ProgressEvent[] {
  const out: ProgressEvent[] = [];
  for (const v of res.vertexes ?? []) {
    const started = millis(v.started);
    const completed = millis(v.completed);
    out.push({
      type: "vertex",
      digest: (v.digest ?? "") as Digest,
      name: v.name ?? "",
      inputs: (v.inputs ?? []) as Digest[],
      ...(started === undefined ? {} : { started }),
      ...(completed === undefined ? {} : { completed }),
      ...(v.cached ? { cached: true } : {}),
      ...(v.error ? { error: v.error, ...(v.error.endsWith("context canceled") || v.error === "canceled" ? { canceled: true } : {}) } : {}),
    });
  }
  for (const s of res.statuses ?? []) {
    const started = millis(s.started);
    const completed = millis(s.completed);
    out.push({
      type: "status",
      vertex: (s.vertex ?? "") as Digest,
      id: s.ID ?? "",
      current: s.current ?? 0,
      ...(s.total ? { total: s.total } : {}),
      ...(started === undefined ? {} : { started }),
      ...(completed === undefined ? {} : { completed }),
    });
  }
  for (const w of res.warnings ?? []) out.push(warningOfFields(w.vertex ?? "", w));
  for (const l of res.logs ?? []) {
    out.push({ type: "log", vertex: (l.vertex ?? "") as Digest, stream: l.stream === 2 ? 2 : 1, data: l.msg ?? new Uint8Array(), time: millis(l.timestamp) ?? Date.now() });
  }
  return out;
}
