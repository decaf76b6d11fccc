/** Go's fmt verbs as BuildKit's history messages use them (%q of strings, ints and durations). */
import { goDuration } from "../../go-duration.ts";
import type { Health } from "./instructions.ts";

export { goDuration };

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

/** %q of a *HealthConfig: &{["CMD-SHELL" "…"] "30s" "0s" "0s" '\x03'}. */
export function goHealth(h: Health): string {
  return `&{${goQuoteList(h.Test)} ${[h.Interval, h.Timeout, h.StartPeriod].map((d) => goQuote(goDuration(d ?? 0))).join(" ")} ${goQuoteRune(h.Retries ?? 0)}}`;
}
