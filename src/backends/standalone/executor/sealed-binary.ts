// The OCI runtime run from a sealed in-memory copy of its binary.
//
// To keep a container from overwriting the host's runtime through /proc/self/exe
// (CVE-2019-5736), `runc init` makes sure it runs from a copy the container cannot write: unless
// /proc/self/exe already is a fully sealed memfd, it clones itself (Debian's runc 1.1: a
// read-only bind mount of the binary) and executes itself once more, a second exec and dynamic
// link on every container start (~9 ms of a ~55 ms `runc run` here). Running the runtime from a
// memfd sealed against writes, grows and shrinks (as runc's own cloned_binary.c checks) gives
// it that protection up front, so the re-exec is skipped; crun makes the same check. The copy
// is made once per binary (8.7 MB for runc) and made again when the file on disk changes. The
// kernel names a process after the path it was executed by, so the copy is executed through a
// symlink called like the binary (`runc`, not the fd number) where a directory for it is given.
import { closeSync, mkdirSync, readlinkSync, rmSync, statSync, symlinkSync } from "node:fs";
import { basename, join } from "node:path";
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
 * A symlink in dir named like the binary, pointing at the copy (checked on every call: the
 * directory may have been removed since); undefined when it cannot be made.
 */
function linkTo(copy: SealedCopy, path: string, dir: string): string | undefined {
  const link = join(dir, basename(path));
  try {
    if (readlinkSync(link) === copy.exec) return link;
  } catch {
    // missing: made below
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    rmSync(link, { force: true });
    symlinkSync(copy.exec, link);
    return link;
  } catch {
    return undefined;
  }
}

/**
 * What to execute for the runtime binary at path: its sealed copy (through a symlink in linkDir
 * when given), or path itself when no copy can be made. Call it right before spawning (no await
 * between): a replaced copy is closed here.
 */
export function runtimeExecutable(path: string, linkDir?: string): string {
  let stamp: string;
  try {
    stamp = stampOf(path);
  } catch {
    return path; // spawning it reports what is wrong
  }
  let copy = copies.get(path);
  if (copy?.stamp !== stamp) {
    if (copy?.fd !== undefined) closeSync(copy.fd);
    const fd = trySealedCopy(path);
    copy = fd === undefined ? { stamp, exec: path } : { stamp, exec: `/proc/${process.pid}/fd/${fd}`, fd };
    copies.set(path, copy);
  }
  if (copy.fd === undefined || linkDir === undefined) return copy.exec;
  return linkTo(copy, path, linkDir) ?? copy.exec;
}
