/**
 * JSON as Go's encoding/json writes it (Go 1.20, as BuildKit v0.11.6 was built): BuildKit hashes
 * json.Marshal output to make cache keys, so the bytes must match. Objects are written in the
 * order their fields are given (Go's struct order); `omitempty` is the caller's choice per field.
 * Strings escape `<`, `>`, `&`, U+2028 and U+2029, and control characters other than \n \r \t
 * as \u00xx, as Go does.
 */

/** A string literal as Go writes it. */
export function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&" || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A field of a Go struct: its JSON name and value (already encoded), or undefined to omit it. */
export type GoField = readonly [name: string, encoded: string | undefined];

export function goObject(fields: readonly GoField[]): string {
  const parts = fields.filter((f): f is readonly [string, string] => f[1] !== undefined).map(([k, v]) => `${goString(k)}:${v}`);
  return `{${parts.join(",")}}`;
}

/** `omitempty` helpers: undefined for Go's zero value. */
export const omitString = (s: string | null | undefined): string | undefined => (s ? goString(s) : undefined);
export const omitNumber = (n: number | null | undefined): string | undefined => (n ? String(n) : undefined);
export const omitBool = (b: boolean | null | undefined): string | undefined => (b ? "true" : undefined);
export const omitStrings = (l: readonly string[] | null | undefined): string | undefined => (l && l.length > 0 ? `[${l.map(goString).join(",")}]` : undefined);
export const omitList = <T>(l: readonly T[] | null | undefined, f: (item: T) => string): string | undefined => (l && l.length > 0 ? `[${l.map(f).join(",")}]` : undefined);
/** A []byte: base64, as Go encodes byte slices. */
export const omitBytes = (b: Uint8Array | null | undefined): string | undefined => (b && b.length > 0 ? goString(Buffer.from(b).toString("base64")) : undefined);
