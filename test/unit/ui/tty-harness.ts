// A fake terminal for the tty display's unit tests: a stream that records writes, a clock and
// timers that move only when told, and a reading of the frames the display wrote.
import { sha256 } from "../../../src/core/digest.ts";
import type { Digest } from "../../../src/core/digest.ts";
import type { ProgressEvent } from "../../../src/core/progress/events.ts";
import type { Timers } from "../../../src/ui/tty.ts";

export const T0 = 1_700_000_000_000;
export const digest = (s: string): Digest => sha256(s);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export const vertex = (d: Digest, name: string, fields: Partial<Extract<ProgressEvent, { type: "vertex" }>> = {}): ProgressEvent => ({
  type: "vertex",
  digest: d,
  name,
  inputs: [],
  ...fields,
});
export const log = (v: Digest, text: string, time: number, stream: 1 | 2 = 1): ProgressEvent => ({ type: "log", vertex: v, stream, data: enc(text), time });
export const status = (v: Digest, id: string, fields: Partial<Extract<ProgressEvent, { type: "status" }>> = {}): ProgressEvent => ({
  type: "status",
  vertex: v,
  id,
  current: 0,
  ...fields,
});

export class FakeTerminal {
  readonly writes: string[] = [];
  columns: number;
  rows: number;
  readonly isTTY = true;
  #resize: (() => void)[] = [];

  constructor(columns = 80, rows = 40) {
    this.columns = columns;
    this.rows = rows;
  }

  write(s: string): boolean {
    this.writes.push(s);
    return true;
  }

  on(_event: "resize", listener: () => void): void {
    this.#resize.push(listener);
  }

  off(_event: "resize", listener: () => void): void {
    this.#resize = this.#resize.filter((l) => l !== listener);
  }

  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    for (const l of this.#resize) l();
  }

  get output(): string {
    return this.writes.join("");
  }
}

export class FakeClock {
  time = T0;
  #seq = 0;
  readonly #pending = new Map<number, { at: number; fn: () => void }>();
  readonly now = (): number => this.time;
  readonly timers: Timers = {
    setTimeout: (fn, ms) => {
      const id = ++this.#seq;
      this.#pending.set(id, { at: this.time + ms, fn });
      return id;
    },
    clearTimeout: (id) => {
      this.#pending.delete(id as number);
    },
  };

  /** Moves time forward by `ms`, running due timers in order (after pending promises settle). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await Bun.sleep(0);
      const next = [...this.#pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (next === undefined) break;
      this.#pending.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].fn();
    }
    this.time = end;
  }
}

// The control sequences the Screen writes: synchronized update, cursor show/hide, cursor up,
// clear to end of line / screen, and colours.
const CONTROL = /\x1b\[\?2026[hl]|\x1b\[\?25[lh]|\r?\x1b\[\d+A|\x1b\[J|\x1b\[K|\x1b\[\d+(?:;\d+)*m/g;

/** The text lines of one write (a frame), without control sequences. */
export function frameLines(write: string): string[] {
  const lines = write.replace(CONTROL, "").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}
