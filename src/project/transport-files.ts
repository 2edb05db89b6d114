// The socket, port and token files of a project. Both processes need them: the daemon removes
// a dead daemon's files once it holds the lock, the CLI reports and removes them under the lock.
import { lstatSync, unlinkSync } from "node:fs";
import type { ProjectPaths } from "./paths.ts";

/** The socket, port and token files present now; anything else at those paths is not ours. */
export function transportFiles(paths: ProjectPaths): string[] {
  return [paths.socket, paths.port, paths.token].filter((file) => {
    const info = lstatSync(file, { throwIfNoEntry: false });
    return info !== undefined && (info.isSocket() || info.isFile());
  });
}

/**
 * Removes the socket, port and token files. Only for the lock holder (the daemon at start
 * and stop) or under `withLockFree`: a running daemon's files must never go.
 */
export function removeTransportFiles(paths: ProjectPaths): { removed: string[]; failed: [string, string][] } {
  const removed: string[] = [];
  const failed: [string, string][] = [];
  for (const file of transportFiles(paths)) {
    try {
      unlinkSync(file);
      removed.push(file);
    } catch (error) {
      failed.push([file, (error as Error).message]);
    }
  }
  return { removed, failed };
}
