// lockHolder (src/control/identity.ts): which process holds a project's lock, as `ve orch
// stop` finds it. A daemon writes its pid just after it takes the lock; on a loaded machine it
// can be descheduled in between for more than a second.
import { afterEach, expect, test } from "bun:test";
import { lockHolder } from "../../src/control/identity.ts";
import { type HeldLock, acquireLock } from "../../src/project/lock.ts";
import { projectPaths } from "../../src/project/paths.ts";
import { ensureStateDir } from "../../src/project/state-dir.ts";
import { processStartTime } from "../../src/platform/process.ts";
import { useTempDirs } from "../helpers/temp.ts";

const tempDir = useTempDirs("ve-identity");
const held: HeldLock[] = [];
afterEach(() => {
  for (const lock of held.splice(0)) lock.release();
});

test("a holder that writes its pid 1.5 s after taking the lock is found, not refused as unknown", async () => {
  const paths = projectPaths(tempDir());
  ensureStateDir(paths);
  const lock = await acquireLock(paths.pid, 0);
  expect(lock).toBeDefined();
  held.push(lock as HeldLock);
  setTimeout(() => lock?.writePid(process.pid, processStartTime(process.pid)), 1500);
  const holder = await lockHolder(paths);
  expect(holder?.pid).toBe(process.pid);
});
