// Which system and SQLite error codes are a disk problem, and which answer each gets: the
// classification every store and state-file write goes through.
import { describe, expect, test } from "bun:test";
import { VeError, isStorageFull, storageFault } from "../../src/errors.ts";

const fault = (code: string | undefined, full = false) => {
  const error = code === undefined ? new Error("no code") : Object.assign(new Error(code), { code });
  const found = storageFault(error, "/p/.ve/orchestrator.db", "write to", full);
  return found === undefined ? undefined : { code: found.code, system_code: (found.details as { system_code: unknown }).system_code };
};

describe("storageFault", () => {
  test("full disks, quotas and size limits are storage_full", () => {
    for (const code of ["ENOSPC", "EDQUOT", "SQLITE_FULL", "EFBIG"]) expect(fault(code)).toEqual({ code: "storage_full", system_code: code });
  });

  test("read-only, forbidden and failing disks are storage_unavailable, SQLite's extended codes included", () => {
    for (const code of ["EROFS", "SQLITE_READONLY", "SQLITE_READONLY_DBMOVED", "EACCES", "EPERM", "SQLITE_PERM", "SQLITE_AUTH", "EIO", "ENXIO", "ENODEV", "ESTALE", "SQLITE_IOERR", "SQLITE_IOERR_WRITE"]) {
      expect(fault(code)).toEqual({ code: "storage_unavailable", system_code: code });
    }
  });

  test("other codes, codes that only contain a disk code, and errors without a code are no disk problem", () => {
    for (const code of ["ENOENT", "SQLITE_CONSTRAINT", "XENOSPC", "ENOSPCX", "EROFSX", "SQLITE_FULLX", "sqlite_ioerr", undefined]) expect(fault(code)).toBeUndefined();
  });

  test("a caller that measured the free space itself gets storage_full whatever the code", () => {
    expect(fault("EIO", true)).toEqual({ code: "storage_full", system_code: "EIO" });
    expect(fault(undefined, true)).toEqual({ code: "storage_full", system_code: null });
  });

  test("the message names the path, the cause, the code and what to do", () => {
    const found = storageFault(Object.assign(new Error("x"), { code: "EROFS" }), "/p/.ve/orchestrator.db", "write to");
    expect(found?.message).toBe("Cannot write to /p/.ve/orchestrator.db: its file system is read-only (EROFS); remount it read-write (or move the project to a writable disk) and retry.");
  });
});

describe("isStorageFull", () => {
  const enospc = Object.assign(new Error("write failed"), { code: "ENOSPC" });
  const gitFull = new VeError("git_failed", "`git add -A` failed in /w: error: unable to write file", { stderr: "fatal: unable to write new index file: No space left on device\n" });
  test.each([
    ["a system ENOSPC", enospc, true],
    ["SQLite's full database", Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" }), true],
    ["git's message in its stderr", gitFull, true],
    ["git's message in the sentence", new Error("fatal: No space left on device"), true],
    ["a quota", new Error("Disk quota exceeded"), true],
    ["a storage_full VeError", new VeError("storage_full", "Cannot write"), true],
    ["a read-only disk", Object.assign(new Error("ro"), { code: "EROFS" }), false],
    ["another git failure", new VeError("git_failed", "`git add` failed: fatal: pathspec"), false],
  ])("%s", (_what, error, expected) => {
    expect(isStorageFull(error)).toBe(expected);
  });
});
