// Creating a project's private directories: `.ve/` and, for long project paths, the
// per-user socket directory. Only `start` and the daemon create anything.
import { chmodSync, existsSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { VeError } from "../errors.ts";
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

/** `.ve/`: 0700, with a `.gitignore` of `*` so the state never lands in a commit. */
export function ensureStateDir(paths: ProjectPaths): void {
  ensurePrivateDir(paths.stateDir);
  const gitignore = `${paths.stateDir}/.gitignore`;
  if (!existsSync(gitignore)) writeFileSync(gitignore, "*\n", { mode: PRIVATE_FILE_MODE });
}
