/**
 * The first record of a CSV text as Go's encoding/csv Reader.Read returns it (comma-separated,
 * `"quoted, fields"` with `""` for a quote, the record ending at a newline), with its errors'
 * wording: buildctl reads `--output` with it, BuildKit's frontend `RUN --mount`, `add-hosts` and
 * `ulimit`. Callers put their own context before the error.
 */
export function readGoCsvRecord(text: string): string[] {
  const s = text.replace(/\r\n/g, "\n");
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (s[i] === '"') {
      const start = i;
      i++;
      for (;;) {
        if (i >= s.length) throw csvError(start + 1, 'extraneous or missing " in quoted-field');
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== "," && s[i] !== "\n") throw csvError(i, 'extraneous or missing " in quoted-field');
    } else {
      while (i < s.length && s[i] !== "," && s[i] !== "\n") {
        if (s[i] === '"') throw csvError(i + 1, 'bare " in non-quoted-field');
        field += s[i++];
      }
    }
    fields.push(field);
    if (i >= s.length || s[i] === "\n") return fields;
    i++; // the comma
  }
}

function csvError(column: number, what: string): Error {
  return new Error(`parse error on line 1, column ${column}: ${what}`);
}

/**
 * `k=v,k2="v,2"` flags (--output, --export-cache, …) as buildctl reads them: one CSV record of
 * key=value fields, keys and values trimmed; a field without a key or a key given twice throws,
 * worded for the caller to put its flag before.
 */
export function readKeyValueRecord(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of readGoCsvRecord(text)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`"${part}" is not key=value`);
    const key = part.slice(0, eq).trim();
    if (key in out) throw new Error(`${key} given twice`);
    out[key] = part.slice(eq + 1).trim();
  }
  return out;
}
