// Creating a project's private directories: `.ve/` and, for long project paths, the
// per-user socket directory. Only `start` and the daemon create anything.
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { VeError, storageFault, systemErrorCode } from "../errors.ts";
import type { ProjectPaths } from "./paths.ts";

export const STATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * A directory only this user can enter: created 0700, and refused when it is a symlink or
 * belongs to someone else (a shared /tmp lets anyone pre-create a name).
 */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: STATE_DIR_MODE });
  } catch (error) {
    throw new VeError("io_failed", `Cannot create ${dir} (${(error as Error).message}); check the permissions of its parent.`, {
      path: dir,
    });
  }
  const info = lstatSync(dir);
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) {
    throw new VeError(
      "io_failed",
      `${dir} is not a directory owned by you; remove it or point XDG_RUNTIME_DIR or --project-dir elsewhere.`,
      { path: dir },
    );
  }
  if ((info.mode & 0o777) !== STATE_DIR_MODE) chmodSync(dir, STATE_DIR_MODE);
}

export const GITIGNORE_CONTENT = "*\n";

/** `.ve/`: 0700, with a `.gitignore` of `*` so the state never lands in a commit. */
export function ensureStateDir(paths: ProjectPaths): void {
  ensurePrivateDir(paths.stateDir);
  ensureGitignore(`${paths.stateDir}/.gitignore`);
}

/**
 * Checked at every start, and rewritten when it is missing or holds anything else (a start
 * on a full disk once left it empty, and then `git add -A` staged the database). Written
 * aside and renamed: a failed write leaves the old file or none, never an empty one.
 */
function ensureGitignore(path: string): void {
  let current: string | undefined;
  try {
    current = readFileSync(path, "utf8");
  } catch (error) {
    if (systemErrorCode(error) !== "ENOENT") throw gitignoreFailed(error, path, "read");
  }
  if (current === GITIGNORE_CONTENT) return;
  const aside = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(aside, GITIGNORE_CONTENT, { mode: PRIVATE_FILE_MODE, flag: "w" });
    renameSync(aside, path);
  } catch (error) {
    rmSync(aside, { force: true });
    throw gitignoreFailed(error, path, "write");
  }
}

function gitignoreFailed(error: unknown, path: string, action: "read" | "write"): VeError {
  return (
    storageFault(error, path, action) ??
    new VeError(
      "io_failed",
      `Cannot ${action} ${path} (${(error as Error).message}); it must be a file holding '*' so git ignores the state: remove it and start again.`,
      { path },
    )
  );
}
