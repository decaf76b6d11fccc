// The OCI runtime run from a sealed in-memory copy of its binary.
//
// To keep a container from overwriting the host's runtime through /proc/self/exe
// (CVE-2019-5736), `runc init` makes sure it runs from a copy the container cannot write: unless
// /proc/self/exe already is a fully sealed memfd, it clones itself (Debian's runc 1.1: a
// read-only bind mount of the binary) and executes itself once more, a second exec and dynamic
// link on every container start (~9 ms of a ~55 ms `runc run` here). Running the runtime from a
// memfd sealed against writes, grows and shrinks (as runc's own cloned_binary.c checks) gives
// it that protection up front, so the re-exec is skipped; crun makes the same check. The copy
// is made once per binary (8.7 MB for runc) and made again when the file on disk changes.
import { closeSync, statSync } from "node:fs";
import { sealedCopy } from "../sys/memfd.ts";

interface SealedCopy {
  /** Identifies the file on disk the copy was made from. */
  readonly stamp: string;
  /** The copy's path for exec: /proc/<this pid>/fd/<fd>, or the binary itself when no copy could be made. */
  readonly exec: string;
  readonly fd?: number;
}

const copies = new Map<string, SealedCopy>();

function stampOf(path: string): string {
  const st = statSync(path);
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** A sealed copy of path, or undefined when none can be made (old kernel): the binary is then run as is. */
function trySealedCopy(path: string): number | undefined {
  try {
    return sealedCopy(path);
  } catch {
    return undefined;
  }
}

/**
 * What to execute for the runtime binary at path: its sealed copy, or path itself when none can
 * be made. Call it right before spawning (no await between): a replaced copy is closed here.
 */
export function runtimeExecutable(path: string): string {
  let stamp: string;
  try {
    stamp = stampOf(path);
  } catch {
    return path; // spawning it reports what is wrong
  }
  const known = copies.get(path);
  if (known?.stamp === stamp) return known.exec;
  if (known?.fd !== undefined) closeSync(known.fd);
  const fd = trySealedCopy(path);
  const copy = fd === undefined ? { stamp, exec: path } : { stamp, exec: `/proc/${process.pid}/fd/${fd}`, fd };
  copies.set(path, copy);
  return copy.exec;
}
