// The lines a command writes on stderr besides progress: the trace path, waits, warnings, the
// exporters' response, errors. With `--progress rawjson` each is one JSON object per line
// (`{"type":"trace","path":…}`), so that every line of the stream parses; with `--progress
// quiet` only warnings and errors are written.
import { BUILDINFO_METADATA_KEY } from "../core/provenance/build-info.ts";
import { safeError } from "../ui/sanitize.ts";

/** "info": a choice made for the user that needs no action (crun not used on this host). */
export type NoticeKind = "trace" | "waiting" | "signal" | "response" | "info" | "warning" | "error";

/** What --progress quiet still prints. */
const ALWAYS: ReadonlySet<NoticeKind> = new Set(["warning", "error"]);

let json = false;
let quiet = false;

export function setNoticeMode(mode: { readonly json?: boolean; readonly quiet?: boolean }): void {
  json = mode.json ?? json;
  quiet = mode.quiet ?? quiet;
}

export function jsonNotices(): boolean {
  return json;
}

/**
 * Writes one notice: `text` (which may span lines) as is, or in JSON mode
 * `{"type":kind,...fields}` on one line.
 */
export function notice(kind: NoticeKind, text: string, fields: Readonly<Record<string, unknown>> = {}): void {
  if (quiet && !ALWAYS.has(kind)) return;
  process.stderr.write(json ? `${JSON.stringify({ type: kind, ...fields })}\n` : text);
}

/** `--progress rawjson` anywhere before `--` (also as `--progress=rawjson`). */
export function asksForRawJSON(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  const options = end < 0 ? argv : argv.slice(0, end);
  return options.some((a, i) => a === "--progress=rawjson" || (a === "--progress" && options[i + 1] === "rawjson"));
}

/**
 * Response keys left out of the text lines: build information is a base64 blob on every build
 * (BuildKit v0.11 returns it too); it stays in --metadata-file and in the rawjson notice.
 */
const NOT_SHOWN: ReadonlySet<string> = new Set([BUILDINFO_METADATA_KEY]);

/** The exporters' response as `key: value` lines (control characters escaped). */
export function responseNotice(response: Readonly<Record<string, string>>): void {
  const shown = Object.entries(response).filter(([k]) => !NOT_SHOWN.has(k));
  if (json ? Object.keys(response).length === 0 : shown.length === 0) return;
  notice("response", shown.map(([k, v]) => `${k}: ${safeError(v)}\n`).join(""), { response });
}
