/**
 * Runs a protocol's concurrent loops (Go's errgroup): settles when all are done, or rejects with
 * the first failure at once, aborting `abort` so the others stop at their next check. Aborting
 * `abort` from outside (cancellation) rejects too, even while every loop is blocked on I/O; the
 * stream's owner then tears the stream down, which unblocks them.
 */
export function runTasks(abort: AbortController, tasks: readonly (() => Promise<void>)[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = tasks.length;
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      abort.signal.removeEventListener("abort", onAbort);
      if (!abort.signal.aborted) abort.abort(err);
      reject(err);
    };
    const onAbort = () => fail(abort.signal.reason);
    if (abort.signal.aborted) return fail(abort.signal.reason);
    abort.signal.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      if (--left > 0 || settled) return;
      settled = true;
      abort.signal.removeEventListener("abort", onAbort);
      resolve();
    };
    if (left === 0) {
      left = 1;
      done();
    }
    for (const task of tasks) task().then(done, fail);
  });
}
