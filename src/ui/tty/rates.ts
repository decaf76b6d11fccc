// Transfer rates for status rows (`12.3MB / 45.6MB 8.1MB/s`): bytes per second over the last
// couple of seconds of samples, so the figure follows the transfer without jumping on every event.

interface Sample {
  readonly time: number;
  readonly current: number;
}

export interface RateTracker {
  /** Records that status `key` reached `current` bytes at `time`. */
  observe(key: string, current: number, time: number): void;
  /** Bytes per second for `key` at `now`, or undefined while there is too little to go on. */
  rate(key: string, now: number): number | undefined;
}

export function createRateTracker(opts: { windowMs?: number; minSpanMs?: number } = {}): RateTracker {
  const windowMs = opts.windowMs ?? 2000;
  const minSpanMs = opts.minSpanMs ?? 200;
  const samples = new Map<string, Sample[]>();

  /** Drops samples older than the window, keeping one anchor at or before its start. */
  const prune = (list: Sample[], now: number): void => {
    while (list.length > 2 && (list[1]?.time ?? now) <= now - windowMs) list.shift();
  };

  return {
    observe(key, current, time) {
      let list = samples.get(key);
      if (list === undefined) {
        list = [];
        samples.set(key, list);
      }
      const last = list.at(-1);
      if (last !== undefined && last.current === current && last.time <= time) return; // nothing moved
      list.push({ time, current });
      prune(list, time);
    },
    rate(key, now) {
      const list = samples.get(key);
      if (list === undefined) return undefined;
      prune(list, now);
      const first = list[0];
      const last = list.at(-1);
      if (first === undefined || last === undefined || last === first) return undefined;
      const span = now - first.time;
      if (span < minSpanMs) return undefined;
      return ((last.current - first.current) * 1000) / span;
    },
  };
}
