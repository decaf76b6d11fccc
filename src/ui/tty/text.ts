// Text helpers for the tty display: terminal width of strings, truncation to a width, making log
// text safe to place on one screen row, colours that honour NO_COLOR, and short durations.

/** Columns a string takes on a terminal: ANSI sequences count 0, wide characters 2. */
export function width(s: string): number {
  return Bun.stringWidth(s);
}

/** `s` cut to at most `max` columns, with `…` marking the cut. `s` must be free of ANSI codes. */
export function truncate(s: string, max: number): string {
  if (max <= 0) return "";
  if (width(s) <= max) return s;
  let out = "";
  let used = 0;
  for (const ch of s) {
    const w = width(ch);
    if (used + w > max - 1) break;
    out += ch;
    used += w;
  }
  return `${out}…`;
}

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
// C0 controls except tab (expanded) and DEL; also C1 controls.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/**
 * One log line made fit for a single screen row: what a terminal would show last after carriage
 * returns (progress bars redraw with `\r`), without escape sequences or control characters.
 */
export function sanitizeLine(line: string): string {
  const parts = line.split("\r").filter((p) => p !== "");
  const last = parts.at(-1) ?? "";
  return last.replace(ANSI, "").replaceAll("\t", "    ").replace(CONTROL, "");
}

/** `sha256:<64 hex>` shortened to `sha256:<12 hex>`, as people read digests; other ids as they are. */
export function shortID(id: string): string {
  return id.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]{52}$/, "$1");
}

/** Seconds with one decimal: `0.3s`, `12.3s`, `123.4s` (as BuildKit shows step times). */
export function formatDuration(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

export type Paint = (s: string) => string;

export interface Palette {
  readonly bold: Paint;
  readonly dim: Paint;
  readonly red: Paint;
  readonly green: Paint;
  readonly yellow: Paint;
  readonly blue: Paint;
  readonly cyan: Paint;
}

const sgr =
  (open: number, close: number): Paint =>
  (s) =>
    s === "" ? s : `\x1b[${open}m${s}\x1b[${close}m`;

const plain: Paint = (s) => s;

export function palette(noColor: boolean): Palette {
  if (noColor) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, blue: plain, cyan: plain };
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), blue: sgr(34, 39), cyan: sgr(36, 39) };
}

/** NO_COLOR (https://no-color.org): set and not empty means no colour. */
export function noColorFromEnv(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env.NO_COLOR;
  return v !== undefined && v !== "";
}
