/**
 * JSON as Go's encoding/json writes it, for bytes that must match BuildKit's (digests of
 * manifests and configs, LLB attributes, dump-llb): like JSON.stringify, but <, >, & and
 * U+2028/U+2029 escaped inside strings. Key order is the caller's: build objects in the Go
 * struct's field order, and sort map keys (goSorted) as Go does.
 */
const escape = (json: string): string => json.replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** json.Marshal */
export function goJSON(value: unknown): string {
  return escape(JSON.stringify(value));
}

/** json.MarshalIndent(value, "", "  ") */
export function goJSONIndent(value: unknown): string {
  return escape(JSON.stringify(value, null, 2));
}

/** A Go map[string]T as encoding/json writes it: keys sorted. */
export function goSorted<T>(map: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.keys(map).sort().map((k) => [k, map[k]!]));
}
