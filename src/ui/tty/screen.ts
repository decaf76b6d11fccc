import { width } from "./text.ts";

/**
 * Puts frames on a terminal in place: each frame overwrites the one before (cursor up, each line
 * rewritten then cleared to its end, the rest of the screen cleared), wrapped in a synchronized
 * update so terminals that know it show no half-drawn frame. A frame equal to the last one is not
 * written. A live frame taller than the terminal keeps its first line (the header) and its last
 * rows, since rows that scrolled away could not be rewritten. After a resize the old frame's
 * rows are counted at the new width (terminals re-wrap lines when narrowed). Anything else
 * written to the stream while a frame is up goes above it: the frame is cleared first and
 * redrawn at the next frame.
 */
export interface ScreenStream {
  write(s: string): unknown;
  readonly columns?: number;
  readonly rows?: number;
}

const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";
const SYNC_BEGIN = "\x1b[?2026h";
const SYNC_END = "\x1b[?2026l";
const CLEAR_TO_EOL = "\x1b[K";
const CLEAR_BELOW = "\x1b[J";

export class Screen {
  readonly #out: ScreenStream;
  readonly #write: (s: string) => unknown;
  #onForeign: () => void;
  #previous = "";
  #previousColumns = 0;
  /** Visible widths of the lines now on screen, for counting their rows after a resize. */
  #widths: number[] = [];
  #cursorHidden = false;
  /** Someone else's write left the cursor mid-line: the next frame starts on a new line. */
  #lineOpen = false;
  /** Gives the stream its own write back. */
  #release: () => void = () => {};
  readonly #restoreCursor = (): void => {
    if (this.#cursorHidden) this.#write(SHOW_CURSOR);
  };

  constructor(out: ScreenStream, opts: { onForeignWrite?: () => void } = {}) {
    this.#out = out;
    const original = out.write;
    this.#write = (s) => original.call(out, s);
    this.#onForeign = opts.onForeignWrite ?? (() => {});
  }

  get columns(): number {
    return positive(this.#out.columns) ?? 80;
  }

  get rows(): number {
    return positive(this.#out.rows) ?? 24;
  }

  /** Replaces the frame on screen with `lines` (each already at most columns-1 wide). Returns whether it wrote. */
  draw(lines: readonly string[]): boolean {
    const fitted = this.#fitHeight(lines);
    const frame = fitted.join("\n");
    const columns = this.columns;
    if (frame === this.#previous && columns === this.#previousColumns) return false;
    let s = SYNC_BEGIN + this.#erase(columns, false);
    if (!this.#cursorHidden) {
      s = HIDE_CURSOR + s;
      this.#cursorHidden = true;
      process.once("exit", this.#restoreCursor);
      this.#hijack();
    }
    s += `${fitted.map((l) => l + CLEAR_TO_EOL).join("\n")}\n${CLEAR_BELOW}${SYNC_END}`;
    this.#write(s);
    this.#previous = frame;
    this.#previousColumns = columns;
    this.#widths = fitted.map(width);
    return true;
  }

  /** Replaces the live frame with `lines` in full (no height limit) and leaves them on screen. */
  finish(lines: readonly string[]): void {
    let s = this.#erase(this.columns, true) + lines.map((l) => `${l}\n`).join("");
    if (this.#cursorHidden) s += SHOW_CURSOR;
    this.#release();
    this.#release = () => {};
    this.#write(s);
    process.off("exit", this.#restoreCursor);
    this.#cursorHidden = false;
    this.#previous = "";
    this.#widths = [];
  }

  #fitHeight(lines: readonly string[]): readonly string[] {
    const max = Math.max(2, this.rows - 1);
    if (lines.length <= max) return lines;
    const [header = ""] = lines;
    return [header, ...lines.slice(lines.length - (max - 1))];
  }

  /** Moves to the start of the frame on screen (clearing it all when `clear`); what follows overwrites it. */
  #erase(columns: number, clear: boolean): string {
    const rows = this.#widths.reduce((n, w) => n + Math.max(1, Math.ceil(w / columns)), 0);
    if (rows === 0) {
      const s = this.#lineOpen ? "\n" : "";
      this.#lineOpen = false;
      return s;
    }
    return `\r\x1b[${rows}A${clear ? CLEAR_BELOW : ""}`;
  }

  /** While a frame is up, others' writes to the stream are put above it. */
  #hijack(): void {
    const out = this.#out as { write: (...args: unknown[]) => unknown };
    const original = out.write;
    try {
      out.write = (...args: unknown[]): unknown => {
        if (this.#widths.length > 0) this.#write(this.#erase(this.columns, true));
        this.#widths = [];
        this.#previous = "";
        const r = original.apply(out, args);
        this.#noteLineEnd(args[0]);
        this.#onForeign();
        return r;
      };
      this.#release = () => {
        out.write = original;
      };
    } catch {
      // a stream whose write cannot be replaced: others' writes may garble the frame
    }
  }

  #noteLineEnd(chunk: unknown): void {
    if (typeof chunk === "string" && chunk !== "") this.#lineOpen = !chunk.endsWith("\n");
    else if (chunk instanceof Uint8Array && chunk.length > 0) this.#lineOpen = chunk[chunk.length - 1] !== 0x0a;
  }
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}
