/**
 * The daemon's build history, as BuildKit v0.11 keeps it (solver/llbsolver/history.go): every
 * Control.Solve build is announced when it starts (STARTED, kept in memory while it runs) and
 * recorded when it ends (COMPLETE: its frontend and attributes, exporters and their response,
 * error, times, its progress as a log blob and the steps it cached and completed). Clients
 * follow it with ListenBuildHistory, pin or delete records with UpdateBuildHistory, replay a
 * finished build's progress with Status, and read its blobs through the content service.
 * Unpinned records beyond maxEntries that are older than maxAge are collected, as in BuildKit.
 */
import { existsSync, readFileSync } from "node:fs";
import { BuildkitError } from "../../../core/errors.ts";
import { toGrpcError } from "../../grpc/status.ts";
import { AsyncQueue } from "../../async-queue.ts";
import { apiPb } from "../../pb/index.ts";
import { newID, type HistoryProvenance } from "../../../core/provenance/attestations.ts";
import { SLSA_PROVENANCE_V02 } from "../../../core/provenance/predicate.ts";
import { timestamp, type StatusBatch } from "../status.ts";
import { HistoryStore, type BlobWriter, type HistoryRecord, type PbDescriptor } from "./store.ts";

const v1 = apiPb.moby.buildkit.v1;
type HistoryEvent = apiPb.moby.buildkit.v1.BuildHistoryEvent.$Properties;
type HistoryRequest = apiPb.moby.buildkit.v1.BuildHistoryRequest.$Properties;

export const EVENT = { STARTED: 0, COMPLETE: 1, DELETED: 2 } as const;
/** The media type of a progress log blob: StatusResponse messages, each after its length (4 bytes, little-endian). */
export const STATUS_LOG_MEDIA_TYPE = "application/vnd.buildkit.status.v0";

export interface HistoryConfig {
  readonly maxAgeMs: number;
  readonly maxEntries: number;
}

/** BuildKit's defaults: 48 hours, 50 records. */
export const DEFAULT_HISTORY: HistoryConfig = { maxAgeMs: 48 * 3600_000, maxEntries: 50 };
const IN_TOTO_MEDIA_TYPE = "application/vnd.in-toto+json";
/** How many deleted refs are remembered. */
const MAX_REMEMBERED = 1000;
/** How often records are collected (BuildKit: every two minutes). */
const COLLECT_EVERY_MS = 120_000;


export interface BuildStart {
  readonly ref: string;
  readonly frontend: string;
  readonly frontendAttrs: Readonly<Record<string, string>>;
  readonly exporters: readonly { readonly Type: string; readonly Attrs: Readonly<Record<string, string>> }[];
}

type Listener = (e: HistoryEvent) => void;

export class BuildHistory {
  readonly #store: HistoryStore;
  readonly #config: HistoryConfig;
  readonly #active = new Map<string, HistoryRecord>();
  readonly #listeners = new Set<Listener>();
  /** Refs deleted since the daemon started: listening for one is an error, not an endless wait. */
  readonly #deleted = new Set<string>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(root: string, config: HistoryConfig = DEFAULT_HISTORY) {
    this.#store = new HistoryStore(root);
    this.#config = config;
    this.#collect();
    this.#timer = setInterval(() => this.#collect(), COLLECT_EVERY_MS);
    this.#timer.unref?.();
  }

  /** Announces a build; the recording takes its progress and completes the record. */
  begin(start: BuildStart): Recording {
    const now = Date.now();
    const record: HistoryRecord = {
      Ref: start.ref,
      Frontend: start.frontend,
      FrontendAttrs: { ...start.frontendAttrs },
      Exporters: start.exporters.map((e) => ({ Type: e.Type, Attrs: { ...e.Attrs } })),
      CreatedAt: timestamp(now),
    };
    this.#active.set(start.ref, record);
    this.#deleted.delete(start.ref);
    this.#emit({ type: EVENT.STARTED, record });
    return new Recording(record, now, () => this.#store.openBlob(), (done) => this.#complete(done));
  }

  /**
   * Sends the running builds (STARTED), then unless activeOnly the recorded ones (COMPLETE),
   * then, unless earlyExit, every new event until signal fires; a ref narrows it to one build.
   */
  async listen(req: HistoryRequest, send: (e: HistoryEvent) => Promise<void>, signal: AbortSignal): Promise<void> {
    const ref = req.Ref ?? "";
    if (this.#deleted.has(ref)) throw new BuildkitError("NotFound", `ref ${ref} is deleted`);
    const wanted = (r: HistoryRecord | null | undefined) => ref === "" || r?.Ref === ref;
    // Events that come while the records are being sent wait their turn.
    const queue = new AsyncQueue<HistoryEvent>();
    const listener: Listener = (e) => {
      if (wanted(e.record)) void queue.push(e);
    };
    this.#listeners.add(listener);
    const onAbort = () => queue.close();
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) queue.close();
    try {
      for (const record of this.#active.values()) if (wanted(record)) await send({ type: EVENT.STARTED, record });
      if (!req.ActiveOnly) for (const record of this.#store.list()) if (wanted(record)) await send({ type: EVENT.COMPLETE, record });
      if (req.EarlyExit) return;
      for (let e = await queue.next(); e !== undefined && !signal.aborted; e = await queue.next()) await send(e);
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#listeners.delete(listener);
    }
  }

  /** Pins or unpins a record (its generation goes up; listeners see it COMPLETE again). */
  setPinned(ref: string, pinned: boolean): void {
    const record = this.#store.get(ref);
    if (!record) throw new BuildkitError("NotFound", `build record ${ref}: not found`);
    if (Boolean(record.pinned) === pinned) return;
    const updated = { ...record, pinned, Generation: (record.Generation ?? 0) + 1 };
    this.#store.put(updated);
    this.#emit({ type: EVENT.COMPLETE, record: updated });
  }

  delete(ref: string): void {
    if (!this.#store.delete(ref)) throw new BuildkitError("NotFound", `build record ${ref}: not found`);
    this.#remember(ref);
  }

  #remember(deleted: string): void {
    this.#deleted.add(deleted);
    if (this.#deleted.size > MAX_REMEMBERED) this.#deleted.delete(this.#deleted.values().next().value!);
  }

  /** Whether a finished build by that ref is recorded. */
  has(ref: string): boolean {
    return this.#store.get(ref) !== undefined;
  }

  /** A finished build's progress, as the StatusResponses it streamed; undefined when there is no such record. */
  replay(ref: string): StatusBatch[] | undefined {
    const record = this.#store.get(ref);
    if (!record) return undefined;
    const digest = record.logs?.digest;
    if (!digest) return [];
    const path = this.#store.blobPath(digest);
    return existsSync(path) ? decodeStatusLog(readFileSync(path)) : [];
  }

  /** Where a history blob is, and its size; undefined when this history has none by that digest. */
  blob(digest: string): { path: string; size: number } | undefined {
    const size = this.#store.blobSize(digest);
    return size === undefined ? undefined : { path: this.#store.blobPath(digest), size };
  }

  close(): void {
    clearInterval(this.#timer);
    this.#store.close();
  }

  #complete(record: HistoryRecord): void {
    this.#active.delete(record.Ref ?? "");
    this.#store.put(record);
    this.#emit({ type: EVENT.COMPLETE, record });
  }

  #emit(e: HistoryEvent): void {
    for (const l of this.#listeners) l(e);
  }

  #collect(): void {
    for (const ref of this.#store.collect(this.#config.maxEntries, this.#config.maxAgeMs)) this.#remember(ref);
  }
}

/** One build's record being made: its progress goes to the log blob as it streams. */
export class Recording {
  readonly #record: HistoryRecord;
  readonly #openBlob: () => BlobWriter;
  readonly #log: BlobWriter;
  readonly #complete: (r: HistoryRecord) => void;
  /** Per vertex digest: cached, completed. */
  readonly #vertices = new Map<string, { cached: boolean; completed: boolean }>();
  /** Each result's provenance, told by the export. */
  #results: readonly { readonly id?: string; predicate(): Uint8Array }[] = [];
  #done = false;
  /** What the engine tells this record of the build's results. */
  readonly provenance: HistoryProvenance;

  constructor(record: HistoryRecord, startedOn: number, openBlob: () => BlobWriter, complete: (r: HistoryRecord) => void) {
    this.#record = record;
    this.#openBlob = openBlob;
    this.#log = openBlob();
    this.#complete = complete;
    this.provenance = { startedOn, invocationID: newID(), take: (results) => void (this.#results = results) };
  }

  /** One StatusResponse of the build's progress. */
  status(batch: StatusBatch): void {
    for (const v of batch.vertexes) {
      const seen = this.#vertices.get(v.digest ?? "") ?? { cached: false, completed: false };
      if (v.cached) seen.cached = true;
      if (v.completed) seen.completed = true;
      this.#vertices.set(v.digest ?? "", seen);
    }
    const bytes = v1.StatusResponse.encode(batch).finish();
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, bytes.byteLength, true);
    this.#log.write(header);
    this.#log.write(bytes);
  }

  /** The build ended: with its exporters' response, or its error. */
  finish(outcome: { exporterResponse?: Readonly<Record<string, string>>; error?: unknown }): void {
    if (this.#done) return;
    this.#done = true;
    const r = this.#record;
    r.CompletedAt = timestamp(Date.now());
    r.logs = this.#log.commit(STATUS_LOG_MEDIA_TYPE);
    const vertices = [...this.#vertices.values()];
    r.numTotalSteps = vertices.length;
    r.numCachedSteps = vertices.filter((v) => v.cached).length;
    r.numCompletedSteps = vertices.filter((v) => v.completed).length;
    if (outcome.exporterResponse && Object.keys(outcome.exporterResponse).length > 0) {
      r.ExporterResponse = { ...outcome.exporterResponse };
      const result = imageDescriptor(outcome.exporterResponse);
      if (result) r.Result = { Result: result };
    }
    if (outcome.error !== undefined) r.error = errorStatus(outcome.error);
    this.#attest(r);
    this.#complete(r);
  }

  /** Each result's mode=max provenance as a blob, listed with its result (BuildKit's record attestations). */
  #attest(r: HistoryRecord): void {
    for (const made of this.#results) {
      const blob = this.#openBlob();
      let desc: PbDescriptor;
      try {
        blob.write(made.predicate());
        desc = blob.commit(IN_TOTO_MEDIA_TYPE, { "in-toto.io/predicate-type": SLSA_PROVENANCE_V02 });
      } catch {
        blob.discard();
        continue; // a record without its provenance beats no record
      }
      if (made.id === undefined) {
        r.Result = { ...r.Result, Attestations: [...(r.Result?.Attestations ?? []), desc] };
      } else {
        const results = (r.Results ??= {});
        const info = results[made.id] ?? {};
        results[made.id] = { ...info, Attestations: [...(info.Attestations ?? []), desc] };
      }
    }
  }
}

/** The image an image exporter wrote (its containerimage.descriptor), BuildKit's record Result. */
function imageDescriptor(response: Readonly<Record<string, string>>): PbDescriptor | undefined {
  const encoded = response["containerimage.descriptor"];
  if (!encoded) return undefined;
  try {
    const d = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as { mediaType?: string; digest?: string; size?: number; annotations?: Record<string, string> };
    return { media_type: d.mediaType ?? "", digest: d.digest ?? "", size: d.size ?? 0, ...(d.annotations ? { annotations: d.annotations } : {}) };
  } catch {
    return undefined;
  }
}

/** The error as the gRPC status the build's client was answered with, its details (sources, vertex) included. */
function errorStatus(err: unknown): { code: number; message: string; details?: { type_url: string; value: Uint8Array }[] } {
  const status = toGrpcError(err);
  return { code: status.code, message: status.message, ...(status.details.length > 0 ? { details: status.details.map((d) => ({ type_url: d.type_url, value: d.value })) } : {}) };
}

/** A progress log blob's StatusResponses. */
export function decodeStatusLog(bytes: Uint8Array): StatusBatch[] {
  const out: StatusBatch[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 4 <= bytes.byteLength; ) {
    const size = view.getUint32(at, true);
    const msg = v1.StatusResponse.decode(bytes.subarray(at + 4, at + 4 + size));
    out.push({ vertexes: msg.vertexes ?? [], statuses: msg.statuses ?? [], logs: msg.logs ?? [], warnings: msg.warnings ?? [] } as StatusBatch);
    at += 4 + size;
  }
  return out;
}
