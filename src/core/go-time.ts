// Times as Go writes them, for bytes that must match BuildKit's (image configs, annotations).

/** RFC 3339 in UTC as Go's time.Time marshals (RFC3339Nano): fraction without trailing zeros. */
export function rfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.?0*Z$/, "Z");
}

/** time.RFC3339 in UTC: whole seconds (the created annotation BuildKit's oci exporter writes). */
export function rfc3339Seconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
}
