// mkfifo(3) through bun:ffi (a process per FIFO would cost more than the step it serves).
import { dlopen, FFIType } from "bun:ffi";
import { cString, errnoError } from "../../core/sys/libc.ts";

let lib: ReturnType<typeof open> | undefined;

function open() {
  return dlopen("libc.so.6", { mkfifo: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 } }).symbols;
}

export function mkfifo(path: string, mode: number): void {
  lib ??= open();
  if (lib.mkfifo(cString(path), mode) !== 0) throw errnoError(`mkfifo ${path}`);
}
