// The libc binding (src/platform/libc.ts): the right library per platform and build, and flock
// failures told apart by errno, so that only "held elsewhere" reads as "another daemon runs".
import { describe, expect, test } from "bun:test";
import { closeSync, constants, openSync } from "node:fs";
import { join } from "node:path";
import { LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, SystemCallError, flock, libcCandidates } from "../../src/platform/libc.ts";
import { useTempDirs } from "../helpers/temp.ts";

const tempDir = useTempDirs("ve-libc");

describe("libcCandidates", () => {
  test("macOS uses its one system library", () => {
    expect(libcCandidates("darwin", "arm64", "darwin-arm64")).toEqual(["/usr/lib/libSystem.B.dylib"]);
    expect(libcCandidates("darwin", "x64", undefined)).toEqual(["/usr/lib/libSystem.B.dylib"]);
  });

  test("a glibc build, or a run from source, asks for glibc's soname first", () => {
    expect(libcCandidates("linux", "x64", "linux-x64")[0]).toBe("libc.so.6");
    expect(libcCandidates("linux", "arm64", undefined)[0]).toBe("libc.so.6");
  });

  test("a musl build asks for musl's soname of its own architecture first, never glibc's before it", () => {
    expect(libcCandidates("linux", "x64", "linux-x64-musl")).toEqual([
      "libc.musl-x86_64.so.1",
      "/lib/ld-musl-x86_64.so.1",
      "libc.so.6",
    ]);
    expect(libcCandidates("linux", "arm64", "linux-arm64-musl")[0]).toBe("libc.musl-aarch64.so.1");
  });

  test("an unsupported platform has no candidates (the load error then names the platform)", () => {
    expect(libcCandidates("win32", "x64", undefined)).toEqual([]);
  });
});

describe("flock", () => {
  const open = (path: string) => openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);

  test("takes and releases a lock, and answers false while another open file holds it", () => {
    const path = join(tempDir(), "lock");
    const first = open(path);
    const second = open(path);
    try {
      expect(flock(first, LOCK_EX | LOCK_NB)).toBe(true);
      expect(flock(second, LOCK_SH | LOCK_NB)).toBe(false);
      expect(flock(first, LOCK_UN)).toBe(true);
      expect(flock(second, LOCK_SH | LOCK_NB)).toBe(true);
    } finally {
      closeSync(first);
      closeSync(second);
    }
  });

  test("a failure other than EWOULDBLOCK throws with errno and its description instead of reading as held", () => {
    const fd = open(join(tempDir(), "lock"));
    closeSync(fd);
    let caught: unknown;
    try {
      flock(fd, LOCK_EX | LOCK_NB);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SystemCallError);
    const error = caught as SystemCallError;
    // EBADF is 9 on Linux and macOS alike.
    expect(error.errno).toBe(9);
    expect(error.call).toBe("flock");
    expect(error.message).toBe("flock failed: Bad file descriptor (errno 9)");
  });
});
