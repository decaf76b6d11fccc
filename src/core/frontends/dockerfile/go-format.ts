/** Go's fmt verbs as BuildKit's history messages use them (%q of strings, ints and durations). */
import type { Health } from "./instructions.ts";

const ESCAPES: Record<string, string> = { "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v" };

/** strconv.Quote, for the characters Dockerfiles hold (printable Unicode kept, controls escaped). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += ch === '"' ? '\\"' : ch === "\\" ? "\\\\" : escapeControl(ch);
  return `${out}"`;
}

function escapeControl(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (code >= 0x20 && code !== 0x7f) return ch;
  return ESCAPES[ch] ?? `\\x${code.toString(16).padStart(2, "0")}`;
}

/** %q of a []string: ["a" "b"]. */
export function goQuoteList(args: readonly string[] | undefined): string {
  return `[${(args ?? []).map(goQuote).join(" ")}]`;
}

/** %q of an int: strconv.QuoteRune, e.g. 3 → '\x03', 65 → 'A'. */
export function goQuoteRune(n: number): string {
  const ch = String.fromCodePoint(n);
  return `'${ch === "'" ? "\\'" : ch === "\\" ? "\\\\" : escapeControl(ch)}'`;
}

/** The integer part of v/div and its fraction with trailing zeros dropped, as Duration.String writes it. */
function fraction(v: number, div: number): string {
  const whole = Math.floor(v / div);
  const digits = String(div).length - 1;
  const rest = String(v % div).padStart(digits, "0").replace(/0+$/, "");
  return rest ? `${whole}.${rest}` : `${whole}`;
}

/** time.Duration.String of nanoseconds: "0s", "1.5s", "1m30s", "1h0m0s", "500ms". */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  let u = Math.abs(ns);
  if (u < 1e9) {
    const [div, unit] = u < 1e3 ? [1, "ns"] : u < 1e6 ? [1e3, "µs"] : [1e6, "ms"];
    return `${sign}${fraction(u, div)}${unit}`;
  }
  const h = Math.floor(u / 3.6e12);
  u -= h * 3.6e12;
  const m = Math.floor(u / 6e10);
  u -= m * 6e10;
  return `${sign}${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${fraction(u, 1e9)}s`;
}

/** %q of a *HealthConfig: &{["CMD-SHELL" "…"] "30s" "0s" "0s" '\x03'}. */
export function goHealth(h: Health): string {
  return `&{${goQuoteList(h.Test)} ${[h.Interval, h.Timeout, h.StartPeriod].map((d) => goQuote(goDuration(d ?? 0))).join(" ")} ${goQuoteRune(h.Retries ?? 0)}}`;
}
