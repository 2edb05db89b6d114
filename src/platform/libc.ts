// The libc calls Bun does not expose (flock for the single-instance lock), through bun:ffi.
// Loaded on first use: dlopen compiles a trampoline per symbol, which costs milliseconds.
//
// Which libc: the one this process already runs on, so errno and every other per-thread state
// are the ones the call writes. glibc's soname is libc.so.6; musl's (Alpine's) is
// libc.musl-<arch>.so.1, and musl also answers any "libc.*" name with itself; macOS has one
// system library. Adding a call: one line in `symbols()` and a wrapper that goes through `check`.
import { CString, FFIType, type Pointer, dlopen, ptr, read } from "bun:ffi";
import { BUILD_TARGET } from "../version.ts";

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** The errno values this module decides on (they differ between Linux and macOS). */
const ERRNO =
  process.platform === "darwin" ? { EINTR: 4, EWOULDBLOCK: 35 } : { EINTR: 4, EWOULDBLOCK: 11 };

/** A libc call that failed for a reason the caller did not expect, with errno and its text. */
export class SystemCallError extends Error {
  override readonly name = "SystemCallError";
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly description: string,
  ) {
    super(`${call} failed: ${description} (errno ${errno})`);
  }
}

/** The library names to try, best first, for this platform and build. */
export function libcCandidates(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
  target: string | undefined = BUILD_TARGET,
): string[] {
  if (platform === "darwin") return ["/usr/lib/libSystem.B.dylib"];
  if (platform !== "linux") return [];
  const muslArch = arch === "arm64" ? "aarch64" : "x86_64";
  const glibc = "libc.so.6";
  const musl = [`libc.musl-${muslArch}.so.1`, `/lib/ld-musl-${muslArch}.so.1`];
  // A binary built for musl links musl by that soname; one built for glibc (or run from source on
  // a glibc Bun) has libc.so.6 loaded already. The other names only matter when one is missing.
  return target?.endsWith("-musl") ? [...musl, glibc] : [glibc, ...musl];
}

interface Libc {
  flock(fd: number, operation: number): number;
  getrlimit(resource: number, limits: Pointer): number;
  setrlimit(resource: number, limits: Pointer): number;
  strerror(errno: number): Pointer | null;
  /** The address of the calling thread's errno (errno is per thread). */
  errnoSlot(): Pointer | null;
}

const ERRNO_FUNCTION = process.platform === "darwin" ? "__error" : "__errno_location";

let libc: Libc | undefined;
let loadedFrom: string | undefined;

function open(path: string): Libc {
  const { symbols } = dlopen(path, {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    getrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    strerror: { args: [FFIType.i32], returns: FFIType.ptr },
    [ERRNO_FUNCTION]: { args: [], returns: FFIType.ptr },
  });
  const errnoSlot = symbols[ERRNO_FUNCTION] as () => Pointer | null;
  return {
    flock: symbols.flock as (fd: number, operation: number) => number,
    getrlimit: symbols.getrlimit as (resource: number, limits: Pointer) => number,
    setrlimit: symbols.setrlimit as (resource: number, limits: Pointer) => number,
    strerror: symbols.strerror as (errno: number) => Pointer | null,
    errnoSlot,
  };
}

function load(): Libc {
  if (libc) return libc;
  const candidates = libcCandidates();
  const failures: string[] = [];
  for (const path of candidates) {
    try {
      libc = open(path);
      loadedFrom = path;
      return libc;
    } catch (error) {
      failures.push(`${path}: ${(error as Error).message}`);
    }
  }
  throw new Error(
    candidates.length === 0
      ? `ve has no libc binding for ${process.platform}; it runs on Linux (glibc or musl) and macOS`
      : `cannot load the C library (${failures.join("; ")})`,
  );
}

/** The library name the binding was loaded from (loading it if needed), for diagnostics. */
export function loadedLibc(): string {
  load();
  return loadedFrom ?? "";
}

/** The calling thread's errno, read right after a failed call (nothing in between may reset it). */
function errno(lib: Libc): number {
  const slot = lib.errnoSlot();
  return slot === null ? 0 : read.i32(slot, 0);
}

function describe(lib: Libc, code: number): string {
  const text = lib.strerror(code);
  return text === null ? `error ${code}` : new CString(text).toString();
}

/** The errno of a call that returned -1; EINTR is answered by retrying, as every caller would. */
function callRetryingEintr(lib: Libc, fn: () => number): { result: number; errno: number } {
  for (;;) {
    const result = fn();
    if (result !== -1) return { result, errno: 0 };
    const code = errno(lib);
    if (code !== ERRNO.EINTR) return { result, errno: code };
  }
}

/**
 * flock(2). True when the lock was taken (or released); false only when another open file holds a
 * conflicting lock and LOCK_NB was asked (EWOULDBLOCK). Every other failure (a bad descriptor, a
 * file system without locks, no memory for one) throws a SystemCallError saying which.
 */
export function flock(fd: number, operation: number): boolean {
  const lib = load();
  const { result, errno: code } = callRetryingEintr(lib, () => lib.flock(fd, operation));
  if (result === 0) return true;
  if (code === ERRNO.EWOULDBLOCK && (operation & LOCK_NB) !== 0) return false;
  throw new SystemCallError("flock", code, describe(lib, code));
}

/** RLIMIT_NOFILE: 7 on Linux, 8 on macOS and the BSDs. */
const RLIMIT_NOFILE = process.platform === "linux" ? 7 : 8;
/** macOS refuses a soft limit above OPEN_MAX even when the hard limit is "unlimited". */
const DARWIN_OPEN_MAX = 10240;

export interface FdLimits {
  soft: number;
  hard: number;
}

/** The open-file limits of this process (struct rlimit: two 64-bit rlim_t on every target). */
export function fdLimits(): FdLimits {
  const lib = load();
  const limits = new BigUint64Array(2);
  const { result, errno: code } = callRetryingEintr(lib, () => lib.getrlimit(RLIMIT_NOFILE, ptr(limits)));
  if (result !== 0) throw new SystemCallError("getrlimit", code, describe(lib, code));
  // RLIM_INFINITY is all ones; a Number keeps it as a very large value, which is what it means.
  return { soft: Number(limits[0]), hard: Number(limits[1]) };
}

/**
 * Raises the soft open-file limit to the hard one (which an unprivileged process may do), so
 * that many connections cannot exhaust descriptors at a default soft limit of 1024. Returns the
 * limits before and after.
 */
export function raiseFdLimit(): { before: FdLimits; after: FdLimits } {
  const lib = load();
  const before = fdLimits();
  const limits = new BigUint64Array(2);
  const { result: got } = callRetryingEintr(lib, () => lib.getrlimit(RLIMIT_NOFILE, ptr(limits)));
  if (got !== 0) return { before, after: before };
  const hard = limits[1] as bigint;
  const wanted = process.platform === "darwin" && hard > BigInt(DARWIN_OPEN_MAX) ? BigInt(DARWIN_OPEN_MAX) : hard;
  if ((limits[0] as bigint) >= wanted) return { before, after: before };
  limits[0] = wanted;
  const { result, errno: code } = callRetryingEintr(lib, () => lib.setrlimit(RLIMIT_NOFILE, ptr(limits)));
  if (result !== 0) throw new SystemCallError("setrlimit", code, describe(lib, code));
  return { before, after: fdLimits() };
}
