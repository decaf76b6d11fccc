/**
 * What every bun:ffi binding of libc shares: NUL-terminated strings, the calling thread's
 * errno and errno names. Each module that calls libc binds its own functions with dlopen;
 * only __errno_location is bound here, on first use.
 */
import { dlopen, FFIType, read } from "bun:ffi";
import { constants } from "node:os";

/** A NUL-terminated copy of s that C can read; null stays NULL. */
export function cString(s: string): Buffer;
export function cString(s: string | null): Buffer | null;
export function cString(s: string | null): Buffer | null {
  return s === null ? null : Buffer.from(`${s}\0`, "utf8");
}

function openErrno() {
  return dlopen("libc.so.6", { __errno_location: { args: [], returns: FFIType.ptr } }).symbols;
}

let errnoLib: ReturnType<typeof openErrno> | null | undefined;

/**
 * errno of the calling thread; read it right after the failed call, with no other libc
 * call in between. 0 when libc cannot be opened.
 */
export function lastErrno(): number {
  if (errnoLib === undefined) {
    try {
      errnoLib = openErrno();
    } catch {
      errnoLib = null;
    }
  }
  const location = errnoLib?.__errno_location() ?? null;
  return location === null ? 0 : read.i32(location, 0);
}

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // EWOULDBLOCK/EAGAIN and ENOTSUP/EOPNOTSUPP share numbers: keep the first, canonical name.
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The symbolic name of an errno ("EINVAL"), or undefined when unknown. */
export function errnoName(n: number): string | undefined {
  return errnoNames.get(n);
}

/** A Node-style errno error (`code` is the errno name), so callers map it like any fs error. */
export function errnoError(context: string, errno: number = lastErrno()): Error & { code: string; errno: number } {
  const code = errnoName(errno) ?? `errno ${errno}`;
  return Object.assign(new Error(`${context}: ${code}`), { code, errno });
}

/**
 * A binding of libc functions made on first call of the returned getter (dlopen is not free, and
 * many commands never need it); the same binding after that, or null for good when libc cannot
 * be opened (callers then fall back or fail with their own message).
 */
export function lazyLibc<T>(bind: () => T): () => T | null {
  let bound: T | null | undefined;
  return () => {
    if (bound === undefined) {
      try {
        bound = bind();
      } catch {
        bound = null;
      }
    }
    return bound;
  };
}
