import type { ProgressWriter } from "../../core/progress/events.ts";
import type { TraceRecord } from "../../core/progress/trace.ts";

/**
 * Plays a recorded trace into a display at the pace it was recorded (or `speed` times faster), as
 * if the build were running now: `buildkit debug trace FILE --replay`, the tty tests and the
 * captures in docs/. The display should take `clock.now` as its clock, so that the times it shows
 * are the trace's own.
 */
export interface ReplayClock {
  /** The trace's time (epoch ms) that corresponds to this moment of the replay. */
  now(): number;
}

export function replayClock(records: readonly TraceRecord[], opts: { speed?: number; realNow?: () => number } = {}): ReplayClock {
  const speed = opts.speed ?? 1;
  const realNow = opts.realNow ?? Date.now;
  const first = records.find((r) => r.type !== "end");
  const t0 = first === undefined ? realNow() : first.type === "trace" ? first.started : first.time;
  const wall0 = realNow();
  return { now: () => t0 + (realNow() - wall0) * speed };
}

export async function replayTrace(
  records: readonly TraceRecord[],
  writer: ProgressWriter,
  opts: { clock: ReplayClock; speed?: number; sleep?: (ms: number) => Promise<void> },
): Promise<void> {
  const speed = opts.speed ?? 1;
  const sleep = opts.sleep ?? ((ms: number) => Bun.sleep(ms));
  for (const r of records) {
    if (r.type === "trace") continue;
    const wait = (r.time - opts.clock.now()) / speed;
    if (wait > 0) await sleep(wait);
    if (r.type === "end") {
      await writer.close(r.error === undefined ? undefined : new Error(r.error));
      return;
    }
    writer.write(r);
  }
  await writer.close();
}
