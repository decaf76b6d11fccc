/**
 * WWW-Authenticate parsing (RFC 7235): `Bearer realm="…",service="…",scope="…"` or
 * `Basic realm="…"`, possibly several challenges in one header.
 */

export interface AuthChallenge {
  /** Lower-cased: "basic", "bearer", … */
  readonly scheme: string;
  /** Parameter names lower-cased, values unquoted. */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    while (this.pos < this.text.length && /[\s]/.test(this.text[this.pos] ?? "")) this.pos++;
  }
  peek(): string {
    return this.text[this.pos] ?? "";
  }
  token(): string | undefined {
    const m = TOKEN.exec(this.text.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
  quoted(): string {
    let out = "";
    this.pos++; // opening quote
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++] ?? "";
      if (c === "\\") out += this.text[this.pos++] ?? "";
      else if (c === '"') return out;
      else out += c;
    }
    return out;
  }
}

/** Reads `name=value` pairs until the next challenge starts. */
function readParams(s: Scanner, params: Record<string, string>): void {
  for (;;) {
    s.skipSpace();
    const start = s.pos;
    const name = s.token();
    if (name === undefined) return;
    s.skipSpace();
    if (s.peek() !== "=") {
      s.pos = start; // a new challenge's scheme (or token68)
      return;
    }
    s.pos++;
    s.skipSpace();
    const value = s.peek() === '"' ? s.quoted() : (s.token() ?? "");
    params[name.toLowerCase()] = value;
    s.skipSpace();
    if (s.peek() === ",") s.pos++;
  }
}

/** All challenges in a WWW-Authenticate header value, in order. */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const s = new Scanner(header);
  const out: AuthChallenge[] = [];
  for (;;) {
    s.skipSpace();
    while (s.peek() === ",") {
      s.pos++;
      s.skipSpace();
    }
    const scheme = s.token();
    if (scheme === undefined) return out;
    const params: Record<string, string> = {};
    readParams(s, params);
    out.push({ scheme: scheme.toLowerCase(), params });
    if (s.pos >= s.text.length) return out;
  }
}
