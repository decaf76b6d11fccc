// A sealed in-memory copy of a file (memfd_create, sendfile, F_ADD_SEALS through bun:ffi),
// bound on first use: builds that run no container never compile these bindings.
import { dlopen, FFIType } from "bun:ffi";
import { closeSync, fstatSync, openSync } from "node:fs";
import { basename } from "node:path";
import { cString, lastErrno } from "../../../core/sys/libc.ts";

const MFD_CLOEXEC = 1;
const MFD_ALLOW_SEALING = 2;
const F_ADD_SEALS = 1033;
/** F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE: nothing can change it any more. */
const ALL_SEALS = 1 | 2 | 4 | 8;

function bind() {
  return dlopen("libc.so.6", {
    memfd_create: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    sendfile: { args: [FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  }).symbols;
}

let libc: ReturnType<typeof bind> | undefined;

/**
 * A close-on-exec memfd holding the bytes of path, sealed against writes, growth and shrinking
 * (copied in the kernel: no buffer here); throws with the failing call and errno.
 */
export function sealedCopy(path: string): number {
  libc ??= bind();
  const fd = libc.memfd_create(cString(basename(path)), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw new Error(`memfd_create: errno ${lastErrno()}`);
  const src = openSync(path, "r");
  try {
    const size = fstatSync(src).size;
    for (let done = 0; done < size; ) {
      const n = Number(libc.sendfile(fd, src, null, size - done));
      if (n < 0) throw new Error(`sendfile: errno ${lastErrno()}`);
      if (n === 0) throw new Error(`sendfile: ${path} ended after ${done} of ${size} bytes`);
      done += n;
    }
    if (libc.fcntl(fd, F_ADD_SEALS, ALL_SEALS) < 0) throw new Error(`fcntl(F_ADD_SEALS): errno ${lastErrno()}`);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  } finally {
    closeSync(src);
  }
}
