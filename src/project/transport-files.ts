// The socket, port and token files of a project. Both processes need them: the daemon removes
// a dead daemon's files once it holds the lock, the CLI reports and removes them under the lock.
import { lstatSync, unlinkSync } from "node:fs";
import type { ProjectPaths } from "./paths.ts";
import { parentTrusted } from "./safe-files.ts";
import { checkSocketDirectory } from "./state-dir.ts";

/** Whether the per-user socket directory is one to touch files in (ours, private, not a link). */
function socketDirectoryTrusted(paths: ProjectPaths): boolean {
  if (!paths.socketInRuntimeDir) return true;
  const dir = paths.socket.slice(0, paths.socket.lastIndexOf("/"));
  if (!lstatSync(dir, { throwIfNoEntry: false })) return true;
  try {
    checkSocketDirectory(dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * The socket, port and token files present now; anything else at those paths is not ours, and
 * neither is a socket in a socket directory that another user could have made.
 */
export function transportFiles(paths: ProjectPaths): string[] {
  const candidates = socketDirectoryTrusted(paths) ? [paths.socket, paths.port, paths.token] : [paths.port, paths.token];
  return candidates.filter((file) => {
    if (!parentTrusted(file)) return false;
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
