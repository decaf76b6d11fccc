// Which display a --progress mode means, kept apart from the TTY display itself so that
// choosing it does not load listr2 (about 40 ms of start-up).
export type ProgressMode = "auto" | "tty" | "plain" | "rawjson" | "quiet";

/** Whether `mode` means the tty display on `stream`: `tty` always, `auto` on a terminal that is not TERM=dumb. */
export function shouldUseTTY(mode: ProgressMode | string, stream: { readonly isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  if (mode === "tty") return true;
  if (mode !== "auto") return false;
  return stream.isTTY === true && env.TERM !== "dumb";
}
