/**
 * Runs a protocol's concurrent loops (Go's errgroup): settles when all are done, or rejects with
 * the first failure at once, aborting `abort` so the others stop at their next check. The stream
 * their owner tears down unblocks any still waiting in recv().
 */
export function runTasks(abort: AbortController, tasks: readonly (() => Promise<void>)[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = tasks.length;
    let failed = false;
    if (left === 0) resolve();
    for (const task of tasks) {
      task().then(
        () => {
          if (--left === 0 && !failed) resolve();
        },
        (err: unknown) => {
          if (failed) return;
          failed = true;
          abort.abort(err);
          reject(err);
        },
      );
    }
  });
}
