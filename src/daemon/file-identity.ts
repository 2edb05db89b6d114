// A file is the same file while its device and inode are: how the daemon tells its own files
// from ones that replaced them at the same path (a new daemon's, after `.ve/` was deleted).
import { fstatSync, lstatSync, unlinkSync } from "node:fs";

export interface FileIdentity {
  dev: number;
  ino: number;
}

export function identityOf(path: string): FileIdentity | undefined {
  const info = lstatSync(path, { throwIfNoEntry: false });
  return info ? { dev: info.dev, ino: info.ino } : undefined;
}

export function identityOfFd(fd: number): FileIdentity {
  const info = fstatSync(fd);
  return { dev: info.dev, ino: info.ino };
}

/** What is at `path` now, compared with the file we had there. */
export function compareFile(path: string, ours: FileIdentity): "same" | "missing" | "replaced" {
  let now: FileIdentity | undefined;
  try {
    now = identityOf(path);
  } catch {
    // A directory on the way that cannot be entered any more is as good as gone.
    return "missing";
  }
  if (!now) return "missing";
  return now.dev === ours.dev && now.ino === ours.ino ? "same" : "replaced";
}

/** Unlinks `path` only if it is still our file; true if it was removed. */
export function unlinkIfOurs(path: string, ours: FileIdentity): boolean {
  if (compareFile(path, ours) !== "same") return false;
  unlinkSync(path);
  return true;
}
