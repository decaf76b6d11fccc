import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { BuildkitError } from "../../core/errors.ts";
import { describeErrno, errnoName, LOCK, sysFlock } from "./sys/libc.ts";

/** A held lock on a state directory; one process owns a root at a time. */
export interface RootLock {
  release(): void;
}

/**
 * Takes an exclusive flock(2) on ROOT/lock. When another process holds it, calls onWait once
 * and retries until it is free or the signal fires. The kernel drops the lock if the process
 * dies, so a killed build never leaves the root locked.
 */
export async function lockRoot(root: string, opts: { onWait?: () => void; signal?: AbortSignal } = {}): Promise<RootLock> {
  mkdirSync(root, { recursive: true });
  const fd = openSync(join(root, "lock"), "a");
  let waited = false;
  for (;;) {
    const err = sysFlock(fd, LOCK.EX | LOCK.NB);
    if (err === 0) break;
    if (errnoName(err) !== "EWOULDBLOCK" && errnoName(err) !== "EAGAIN") {
      closeSync(fd);
      throw new BuildkitError("Internal", `locking ${root}: ${describeErrno(err)}`);
    }
    if (!waited) opts.onWait?.();
    waited = true;
    if (opts.signal?.aborted) {
      closeSync(fd);
      throw new BuildkitError("Canceled", `waiting for the lock on ${root}: canceled`);
    }
    await Bun.sleep(100);
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      sysFlock(fd, LOCK.UN);
      closeSync(fd);
    },
  };
}
