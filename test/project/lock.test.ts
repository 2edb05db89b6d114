// The single-instance lock (DESIGN.md "Files of one project": orchestrator.pid holds the pid
// and an exclusive flock for the daemon's whole life, never unlinked; "Daemon lifecycle":
// kill -9 must leave nothing that blocks the next start).
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type HeldLock, acquireLock, isLockHeld, readPid, readPidRecord, withLockFree } from "../../src/project/lock.ts";
import { useTempDirs } from "../helpers/temp.ts";

const FIXTURE = join(import.meta.dir, "fixtures", "lock.ts");
const tempDir = useTempDirs("ve-lock");
const pidFile = () => join(tempDir(), "orchestrator.pid");

const children: Subprocess[] = [];
const locks: HeldLock[] = [];
afterEach(async () => {
  for (const lock of locks.splice(0)) {
    try {
      lock.release();
    } catch {
      // released by the test
    }
  }
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
    await child.exited;
  }
});

async function take(path: string, retryMs = 0): Promise<HeldLock> {
  const lock = await acquireLock(path, retryMs);
  if (!lock) throw new Error(`could not take the lock on ${path}`);
  locks.push(lock);
  return lock;
}

/** A child process that holds the lock on `path` (and has written its pid) until killed. */
async function holder(path: string): Promise<Subprocess> {
  const child = Bun.spawn([process.execPath, FIXTURE, path, "hold"], { stdio: ["ignore", "ignore", "inherit"] });
  children.push(child);
  // A hang guard for a process starting up on a loaded machine.
  const deadline = Date.now() + 20_000;
  while (readPid(path) !== child.pid) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error("the holder exited without taking the lock");
    if (Date.now() > deadline) throw new Error("the holder did not take the lock within 20 s");
    await Bun.sleep(5);
  }
  return child;
}

/** Another process's attempt to take the lock within `retryMs`. */
async function tryInChild(path: string, retryMs: number): Promise<{ acquired: boolean; elapsedMs: number }> {
  const child = Bun.spawn([process.execPath, FIXTURE, path, "try", String(retryMs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const [stdout] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  return JSON.parse(stdout);
}

describe("acquireLock: one holder at a time", () => {
  test("the first acquire gets the lock and creates the pid file 0600", async () => {
    const path = pidFile();
    await take(path);
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("while we hold it, another process fails, but only after its retry window", async () => {
    const path = pidFile();
    await take(path);
    const result = await tryInChild(path, 300);
    expect(result.acquired).toBe(false);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(295);
    expect(result.elapsedMs).toBeLessThan(2000);
  });

  test("a second acquire in this process fails too (the lock belongs to the open file, not the pid)", async () => {
    const path = pidFile();
    await take(path);
    expect(await acquireLock(path, 0)).toBeUndefined();
  });

  test("once the holder releases, another process gets it", async () => {
    const path = pidFile();
    const lock = await take(path);
    lock.release();
    const result = await tryInChild(path, 0);
    expect(result.acquired).toBe(true);
  });

  test("a waiting acquire succeeds within its window when the holding process exits", async () => {
    const path = pidFile();
    const child = await holder(path);
    const waiting = acquireLock(path, 5000);
    child.kill("SIGTERM");
    const started = performance.now();
    const lock = await waiting;
    expect(lock).toBeDefined();
    if (lock) locks.push(lock);
    expect(performance.now() - started).toBeLessThan(4000);
  });

  test("a holder killed with SIGKILL leaves nothing that blocks the next acquire", async () => {
    const path = pidFile();
    const child = await holder(path);
    expect(await acquireLock(path, 50)).toBeUndefined();
    child.kill("SIGKILL");
    await child.exited;
    const lock = await take(path);
    // The dead holder's pid is still written, but the lock is ours.
    expect(readPid(path)).toBe(child.pid);
    lock.writePid(process.pid);
    expect(readPid(path)).toBe(process.pid);
  });
});

describe("isLockHeld: a probe that never holds the lock itself", () => {
  test("false when there is no file, and it does not create one", () => {
    const path = pidFile();
    expect(isLockHeld(path)).toBe(false);
    expect(existsSync(path)).toBe(false);
  });

  test("false when the file exists and nobody holds it", () => {
    const path = pidFile();
    writeFileSync(path, "12345\n");
    expect(isLockHeld(path)).toBe(false);
  });

  test("true while another process holds it, false once that process is killed", async () => {
    const path = pidFile();
    const child = await holder(path);
    expect(isLockHeld(path)).toBe(true);
    child.kill("SIGKILL");
    await child.exited;
    expect(isLockHeld(path)).toBe(false);
  });

  test("true while this process holds it through acquireLock", async () => {
    const path = pidFile();
    const lock = await take(path);
    expect(isLockHeld(path)).toBe(true);
    lock.release();
    expect(isLockHeld(path)).toBe(false);
  });

  test("probing leaves the lock free: an acquire right after, with no retry, succeeds", async () => {
    const path = pidFile();
    writeFileSync(path, "");
    for (let i = 0; i < 5; i++) expect(isLockHeld(path)).toBe(false);
    const result = await tryInChild(path, 0);
    expect(result.acquired).toBe(true);
  });
});

describe("withLockFree: runs its callback only while no daemon can start", () => {
  test("runs the callback when the lock is free, and frees it again afterwards", async () => {
    const path = pidFile();
    let ran = 0;
    let heldDuring: boolean | undefined;
    expect(
      withLockFree(path, () => {
        ran++;
        heldDuring = isLockHeld(path);
      }),
    ).toBe(true);
    expect(ran).toBe(1);
    // While the callback runs, a daemon could not take the lock.
    expect(heldDuring).toBe(true);
    expect(isLockHeld(path)).toBe(false);
    await take(path);
  });

  test("does not run the callback while another process holds the lock", async () => {
    const path = pidFile();
    await holder(path);
    let ran = false;
    expect(
      withLockFree(path, () => {
        ran = true;
      }),
    ).toBe(false);
    expect(ran).toBe(false);
  });

  test("frees the lock even when the callback throws", async () => {
    const path = pidFile();
    expect(() =>
      withLockFree(path, () => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(isLockHeld(path)).toBe(false);
    await take(path);
  });
});

describe("the pid file", () => {
  test("readPid returns the written pid; a later, shorter pid replaces it entirely", async () => {
    const path = pidFile();
    const lock = await take(path);
    lock.writePid(1234567);
    expect(readPid(path)).toBe(1234567);
    lock.writePid(42);
    expect(readPid(path)).toBe(42);
    expect(readFileSync(path, "utf8")).toBe("42\n");
  });

  test("the pid file holds one number, so `kill $(cat .ve/orchestrator.pid)` signals the daemon alone; its start time is read back from beside it", async () => {
    const path = pidFile();
    const lock = await take(path);
    lock.writePid(4242, "987654");
    expect(readFileSync(path, "utf8")).toBe("4242\n");
    expect(readPidRecord(path)).toEqual({ pid: 4242, startTime: "987654" });
    lock.writePid(77);
    expect(readPidRecord(path)).toEqual({ pid: 77, startTime: undefined });
  });

  test("a pid file of the two-line form older daemons wrote is still read whole", () => {
    const path = pidFile();
    writeFileSync(path, "4242\n987654\n");
    expect(readPidRecord(path)).toEqual({ pid: 4242, startTime: "987654" });
  });

  test("readPid is undefined for a missing, empty or garbage file", () => {
    const dir = tempDir();
    expect(readPid(join(dir, "missing.pid"))).toBeUndefined();
    for (const [name, content] of [
      ["empty", ""],
      ["blank", "\n  \n"],
      ["garbage", "not a pid\n"],
      ["zero", "0\n"],
      ["negative", "-17\n"],
    ] as const) {
      const path = join(dir, `${name}.pid`);
      writeFileSync(path, content);
      expect(readPid(path)).toBeUndefined();
    }
  });

  test("release() empties the pid file and frees the lock", async () => {
    const path = pidFile();
    const lock = await take(path);
    lock.writePid(process.pid);
    lock.release();
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path, "utf8")).toBe("");
    expect(readPid(path)).toBeUndefined();
    expect(isLockHeld(path)).toBe(false);
  });

  test("the pid file is never unlinked: one inode through acquire, release, kill -9 and re-acquire", async () => {
    const path = pidFile();
    const lock = await take(path);
    const inode = statSync(path).ino;
    lock.writePid(process.pid);
    lock.release();
    expect(statSync(path).ino).toBe(inode);

    const child = await holder(path);
    expect(statSync(path).ino).toBe(inode);
    child.kill("SIGKILL");
    await child.exited;
    expect(statSync(path).ino).toBe(inode);

    expect(withLockFree(path, () => {})).toBe(true);
    expect(isLockHeld(path)).toBe(false);
    await take(path);
    expect(statSync(path).ino).toBe(inode);
  });

  test("the holder's pid is readable by others while it runs", async () => {
    const path = pidFile();
    const child = await holder(path);
    expect(readPid(path)).toBe(child.pid);
  });
});
