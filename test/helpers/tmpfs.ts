// A small tmpfs of a test's own, to fill up: the disk-full fault injection. Needs root (the
// tests run as root here); where mounting is refused the caller skips with the printed reason.
import { afterAll } from "bun:test";
import { closeSync, mkdtempSync, openSync, realpathSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tmpfs {
  dir: string;
  /** Grows the file system to `sizeBytes` (space freed without touching its files). */
  resize(sizeBytes: number): void;
  /** Writes a file of zeros until the disk is full; returns its path (delete it to free the space). */
  fill(name?: string): string;
}

/**
 * Call at the top level of a test file. Returns `mount(sizeBytes)`, which mounts a tmpfs of that
 * size on a new directory (every one unmounted after the file's tests), or returns a string
 * saying why it cannot.
 */
export function useTmpfs(): (sizeBytes: number) => Tmpfs | string {
  const mounted: string[] = [];
  afterAll(() => {
    for (const dir of mounted.splice(0)) {
      Bun.spawnSync(["umount", "-l", dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return (sizeBytes) => {
    const result = mountTmpfs(sizeBytes);
    if (typeof result !== "string") mounted.push(result.dir);
    return result;
  };
}

function mountTmpfs(sizeBytes: number): Tmpfs | string {
  if (process.platform !== "linux") return "tmpfs mounts are Linux-only";
  if (process.getuid?.() !== 0) return "mounting a tmpfs needs root";
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "ve-tmpfs-")));
  const result = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${sizeBytes},mode=0755`, "tmpfs", dir], {
    stderr: "pipe",
  });
  if (result.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `mount -t tmpfs was refused: ${result.stderr.toString().trim() || `exit ${result.exitCode}`}`;
  }
  return {
    dir,
    resize(size) {
      const resized = Bun.spawnSync(["mount", "-o", `remount,size=${size}`, dir], { stderr: "pipe" });
      if (resized.exitCode !== 0) throw new Error(`cannot resize ${dir}: ${resized.stderr.toString()}`);
    },
    fill(name = "filler") {
      const path = join(dir, name);
      const fd = openSync(path, "a");
      const block = Buffer.alloc(64 * 1024);
      try {
        for (;;) {
          try {
            if (writeSync(fd, block) === 0) break;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === "ENOSPC") break;
            throw error;
          }
        }
        // The last pages, smaller than a block.
        const byte = Buffer.alloc(1);
        for (;;) {
          try {
            if (writeSync(fd, byte) === 0) break;
          } catch {
            break;
          }
        }
      } finally {
        closeSync(fd);
      }
      return path;
    },
  };
}
