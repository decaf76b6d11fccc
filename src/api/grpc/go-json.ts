/**
 * JSON text as Go's encoding/json writes it, for the error details BuildKit's clients read with
 * json.Unmarshal: strings escaped as Go escapes them (HTML characters and U+2028/U+2029 too),
 * []byte as padded base64, map keys sorted, struct fields in declaration order.
 */

/** A JSON value to write: a `raw` piece is written as it is (already Go's JSON). */
export type GoJson = string | number | boolean | null | readonly GoJson[] | GoObject | { readonly raw: string };

/** Fields in the order they are written; undefined fields are left out (omitempty). */
export interface GoObject {
  readonly fields: readonly (readonly [string, GoJson | undefined])[];
}

export function goObject(fields: readonly (readonly [string, GoJson | undefined])[]): GoObject {
  return { fields };
}

/** A map: its keys sorted by bytes, as Go sorts string keys. */
export function goMap(entries: readonly (readonly [string, GoJson])[]): GoObject {
  return { fields: [...entries].sort(([a], [b]) => compareBytes(a, b)) };
}

/** []byte: base64 with padding, or left out when empty (omitempty). */
export function goBytes(b: Uint8Array | null | undefined): string | undefined {
  return b && b.byteLength > 0 ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64") : undefined;
}

/** omitempty for numbers, strings and booleans: their zero values are left out. */
export function nonZero<T extends string | number | boolean>(v: T | null | undefined): T | undefined {
  return v ? v : undefined;
}

export function writeGoJson(v: GoJson): string {
  if (v === null) return "null";
  if (typeof v === "string") return goString(v);
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${(v as readonly GoJson[]).map(writeGoJson).join(",")}]`;
  if ("raw" in v) return v.raw;
  const parts: string[] = [];
  for (const [k, value] of (v as GoObject).fields) if (value !== undefined) parts.push(`${goString(k)}:${writeGoJson(value)}`);
  return `{${parts.join(",")}}`;
}

const SHORT: Readonly<Record<string, string>> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** A string as Go's encoder writes it (Go 1.19/1.20, which built BuildKit v0.11.6). */
export function goString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const c = s.charCodeAt(i);
    const short = SHORT[ch];
    if (short !== undefined) out += short;
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&" || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += ch + (s[i + 1] as string);
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += "\ufffd"; // a lone surrogate: Go writes invalid UTF-8 as U+FFFD
    else out += ch;
  }
  return `${out}"`;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
