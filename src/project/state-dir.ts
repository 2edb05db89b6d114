// Creating a project's private directories: `.ve/` and, for long project paths, the
// per-user socket directory. Only `start` and the daemon create anything.
import { mkdirSync } from "node:fs";
import { VeError, storageFault } from "../errors.ts";
import type { ProjectPaths } from "./paths.ts";
import { checkPrivateDirectory, fileError, readStateText, writeFileAside } from "./safe-files.ts";

export { PRIVATE_FILE_MODE } from "./safe-files.ts";
export const STATE_DIR_MODE = 0o700;

function makeDirectory(dir: string, recursiveParent: boolean): void {
  try {
    mkdirSync(dir, { mode: STATE_DIR_MODE });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code === "ENOENT" && recursiveParent) {
      try {
        mkdirSync(dir, { recursive: true, mode: STATE_DIR_MODE });
        return;
      } catch (inner) {
        throw fileError(inner, dir, "create");
      }
    }
    throw fileError(error, dir, "create");
  }
}

/** The per-user socket directory: ours, 0700, a real directory, or refused (never tightened). */
export function ensurePrivateDir(dir: string): void {
  makeDirectory(dir, true);
  checkSocketDirectory(dir);
}

/**
 * What daemon and client check before they listen or connect in the per-user socket
 * directory: in a shared /tmp anyone can create `ve-<uid>` first, and whoever owns it (or can
 * write to it) can put a socket there that answers as the daemon.
 */
export function checkSocketDirectory(dir: string): void {
  checkPrivateDirectory(dir, {
    role: "the per-user socket directory",
    refuseShared: true,
    alternative: ", or set XDG_RUNTIME_DIR to a private directory of yours",
  });
}

export const GITIGNORE_CONTENT = "*\n";

/** `.ve/`: 0700, with a `.gitignore` of `*` so the state never lands in a commit. */
export function ensureStateDir(paths: ProjectPaths): void {
  makeDirectory(paths.stateDir, false);
  checkPrivateDirectory(paths.stateDir, {
    role: "the project's state directory",
    refuseShared: false,
    alternative: "",
  });
  ensureGitignore(`${paths.stateDir}/.gitignore`);
}

/**
 * Checked at every start, and rewritten when it is missing or holds anything else (a start
 * on a full disk once left it empty, and then `git add -A` staged the database). Written
 * aside and renamed: a failed write leaves the old file or none, never an empty one.
 */
function ensureGitignore(path: string): void {
  // Read only if it is a plain file of ours; anything else (a committed symlink) is replaced
  // by the rename below, which never follows a link.
  let current: string | undefined;
  try {
    current = readStateText(path);
  } catch (error) {
    if (!(error instanceof VeError && error.code === "unsafe_path")) throw gitignoreFailed(error, path, "read");
  }
  if (current === GITIGNORE_CONTENT) return;
  try {
    writeFileAside(path, GITIGNORE_CONTENT);
  } catch (error) {
    throw gitignoreFailed(error, path, "write");
  }
}

function gitignoreFailed(error: unknown, path: string, action: "read" | "write"): VeError {
  if (error instanceof VeError) return error;
  return (
    storageFault(error, path, action) ??
    new VeError(
      "io_failed",
      `Cannot ${action} ${path} (${(error as Error).message}); it must be a file holding '*' so git ignores the state: remove it and start again.`,
      { path },
    )
  );
}
