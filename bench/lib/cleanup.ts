// Everything the harness starts or creates is registered here, so that it is gone when the
// harness ends: normally, on an exception, or on Ctrl-C / SIGTERM.
import { readFileSync, rmSync } from "node:fs";

interface Owned {
  /** Asynchronous, orderly teardown (stop the daemon, end the server). */
  close: () => Promise<void>;
  /** Last resort from the exit handler: synchronous, signals only. */
  kill: () => void;
}

const owned = new Set<Owned>();
const dirs = new Set<string>();
let installed = false;

export function own(item: Owned): () => void {
  owned.add(item);
  return () => owned.delete(item);
}

export function ownDir(dir: string): void {
  dirs.add(dir);
}

/** Whether `pid` is alive and not a zombie. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** The process's command line, or undefined when it is gone. */
export function cmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return undefined;
  }
}

function removeDirs(): void {
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {}
    dirs.delete(dir);
  }
}

/** Orderly teardown of everything still owned, then the temporary directories. */
export async function cleanupAll(): Promise<void> {
  for (const item of [...owned].reverse()) {
    try {
      await item.close();
    } catch (error) {
      process.stderr.write(`bench: cleanup: ${(error as Error).message}\n`);
      item.kill();
    }
    owned.delete(item);
  }
  removeDirs();
}

function killAllSync(): void {
  for (const item of owned) {
    try {
      item.kill();
    } catch {}
  }
  owned.clear();
  removeDirs();
}

export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  process.on("exit", killAllSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping everything the harness started\n`);
      void cleanupAll().finally(() => process.exit(130));
      // A teardown that hangs must not keep the harness alive.
      setTimeout(() => {
        killAllSync();
        process.exit(130);
      }, 15_000).unref();
    });
  }
}
