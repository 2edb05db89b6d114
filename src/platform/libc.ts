// The libc call Bun does not expose: flock, for the single-instance lock. Loaded on first use:
// dlopen compiles a trampoline, which costs milliseconds.
import { FFIType, dlopen } from "bun:ffi";

const LIBC_PATH = process.platform === "darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6";

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

let libc:
  | {
      flock: (fd: number, operation: number) => number;
    }
  | undefined;

function load() {
  if (!libc) {
    const { symbols } = dlopen(LIBC_PATH, {
      flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    });
    libc = { flock: symbols.flock };
  }
  return libc;
}

/** 0 on success, -1 when the lock is held elsewhere (or the fd is bad). */
export function flock(fd: number, operation: number): number {
  return load().flock(fd, operation);
}
