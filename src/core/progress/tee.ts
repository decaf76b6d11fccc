import type { ProgressEvent, ProgressWriter } from "./events.ts";

/**
 * Fans one progress stream out to several writers. A writer that throws (or whose close rejects)
 * never keeps the others from seeing an event or from closing: its first error is remembered and
 * `close` rejects with an AggregateError of them, after every writer has been closed, so the
 * caller can warn without losing the build's output.
 */
export function tee(...writers: ProgressWriter[]): ProgressWriter {
  const failed = new Map<ProgressWriter, unknown>();
  const remember = (w: ProgressWriter, err: unknown): void => {
    if (!failed.has(w)) failed.set(w, err);
  };
  let closed = false;

  return {
    write(e: ProgressEvent): void {
      if (closed) return;
      for (const w of writers) {
        try {
          w.write(e);
        } catch (err) {
          remember(w, err);
        }
      }
    },
    async close(err?: Error): Promise<void> {
      if (closed) return;
      closed = true;
      const results = await Promise.allSettled(
        writers.map(async (w) => {
          await w.close(err);
        }),
      );
      results.forEach((r, i) => {
        const w = writers[i];
        if (r.status === "rejected" && w !== undefined) remember(w, r.reason);
      });
      if (failed.size > 0) throw new AggregateError([...failed.values()], "progress writers failed");
    },
  };
}
