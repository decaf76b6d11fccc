/**
 * The image config of a result whose frontend gave one (`containerimage.config`), completed as
 * BuildKit's containerimage exporter does (writer.go's normalizeLayersAndHistory and
 * patchImageConfig): rootfs from the layers, history lined up with them (entries added for
 * unaccounted layers, surplus ones made empty), missing creation times filled in, times clamped
 * to SOURCE_DATE_EPOCH, top-level keys sorted as Go writes a map. One difference: BuildKit
 * keeps a layer for an empty diff and we do not, so that layer's history entry says empty_layer.
 */
import type { Digest } from "../../digest.ts";
import { invalidArgument } from "../../errors.ts";
import { INLINE_CACHE_KEY } from "../../image/oci-types.ts";
import { BUILDINFO_CONFIG_KEY } from "../../provenance/build-info.ts";
import type { HistoryEntry } from "../../image/oci-types.ts";
import type { ChainLayer } from "../../image/image-layers.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type History = Mutable<HistoryEntry>;

const EXPORTER_COMMENT = "buildkit.exporter.image.v0";

export interface PatchParams {
  readonly layers: readonly ChainLayer[];
  /** The export's time (RFC 3339): creation time of history entries that have none. */
  readonly created: string;
  /** SOURCE_DATE_EPOCH as RFC 3339: later times are clamped to it. */
  readonly epoch?: string;
  /** The inline cache (base64 of its records' JSON), written under INLINE_CACHE_KEY. */
  readonly inlineCache?: string;
  /** The build information (base64 of its JSON) under BUILDINFO_CONFIG_KEY; absent: any inherited one is removed. */
  readonly buildInfo?: string;
}

export function patchImageConfig(raw: Uint8Array, p: PatchParams): Record<string, unknown> {
  let config: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(raw));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
    config = parsed as Record<string, unknown>;
  } catch (err) {
    throw invalidArgument(`parsing image config for patch: ${err instanceof Error ? err.message : String(err)}`);
  }
  const history = alignHistory(Array.isArray(config.history) ? (config.history as History[]).map((h) => ({ ...h })) : [], p);
  if (p.epoch !== undefined) for (const h of history) if (h.created === undefined || later(h.created, p.epoch)) h.created = p.epoch;
  const diffIDs: Digest[] = p.layers.flatMap((l) => (l.blob ? [l.blob.diffID] : []));
  const out: Record<string, unknown> = { ...config, rootfs: { type: "layers", diff_ids: diffIDs }, history: history.map(goHistory) };
  if (typeof out.created === "string" && p.epoch !== undefined && later(out.created, p.epoch)) out.created = p.epoch;
  if (out.created === undefined) out.created = history.findLast((h) => h.created !== undefined)?.created ?? null;
  if (p.inlineCache !== undefined) out[INLINE_CACHE_KEY] = p.inlineCache;
  if (p.buildInfo !== undefined) out[BUILDINFO_CONFIG_KEY] = p.buildInfo;
  else delete out[BUILDINFO_CONFIG_KEY];
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
}

/** History entries matched to layers: one non-empty entry per layer, created times filled. */
function alignHistory(history: History[], p: PatchParams): History[] {
  const n = p.layers.length;
  let seen = 0;
  for (const h of history) {
    if (h.empty_layer) continue;
    if (seen >= n) h.empty_layer = true;
    else seen++;
  }
  for (const layer of p.layers.slice(seen)) history.push({ created_by: layer.createdBy, comment: EXPORTER_COMMENT });
  let index = 0;
  for (const h of history) {
    if (h.empty_layer) continue;
    const layer = p.layers[index++];
    h.created ??= p.created;
    if (layer && !layer.blob) h.empty_layer = true;
  }
  fillCreated(history);
  return history;
}

/** Entries without a time take the first new layer's (else the last known) time, as BuildKit. */
function fillCreated(history: History[]): void {
  let created: string | undefined;
  let missing = false;
  for (const h of history) {
    if (h.created !== undefined) {
      created = h.created;
      if (missing) break;
    } else missing = true;
  }
  missing = false;
  for (const h of history) {
    if (h.created !== undefined) {
      if (missing) created = h.created;
    } else {
      missing = true;
      h.created = created;
    }
  }
}

const later = (a: string, b: string): boolean => Date.parse(a) > Date.parse(b);

/** ocispecs.History's field order, omitempty applied. */
function goHistory(h: History): HistoryEntry {
  return {
    ...(h.created !== undefined ? { created: h.created } : {}),
    ...(h.created_by ? { created_by: h.created_by } : {}),
    ...(h.author ? { author: h.author } : {}),
    ...(h.comment ? { comment: h.comment } : {}),
    ...(h.empty_layer ? { empty_layer: true } : {}),
  };
}
