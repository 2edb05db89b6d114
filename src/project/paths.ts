// Where a project's files live. Every CLI run starts here, so this module uses no node:fs or
// node:path (loading node:fs alone costs more than the rest of `ve orch ps`): paths are
// built from the physical project path as strings, and the file system is asked through
// Bun's native calls.
import { VeError } from "../errors.ts";

export const STATE_DIR_NAME = ".ve";
/** Linux allows 108 bytes in a socket path (macOS 104); stay clear of both. */
export const SOCKET_PATH_MAX_BYTES = 100;

export interface ProjectPaths {
  root: string;
  stateDir: string;
  db: string;
  pid: string;
  log: string;
  socket: string;
  /** True when the socket lives in the per-user runtime directory because the project path is long. */
  socketInRuntimeDir: boolean;
  port: string;
  token: string;
}

export interface RootSources {
  flag?: string | undefined;
  env?: string | undefined;
  cwd: string;
}

/** `dir/name` for a normalised absolute `dir` (which is `/` at the top). */
export function childPath(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

function parentPath(dir: string): string {
  const slash = dir.lastIndexOf("/");
  return slash <= 0 ? "/" : dir.slice(0, slash);
}

/**
 * The physical path of a directory, as `cd -P dir && pwd` finds it: chdir resolves every
 * symlink and `..`, and getcwd reports the result. The working directory is put back.
 */
function physicalDirectory(path: string, base: string, source: string): string {
  const target = path.startsWith("/") ? path : childPath(base, path);
  const back = process.cwd();
  try {
    process.chdir(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === "ENOTDIR" ? "is not a directory" : code === "EACCES" ? "cannot be entered" : "does not exist";
    throw new VeError("usage", `The project directory ${path} (from ${source}) ${problem}; pass an existing directory.`, {
      path,
    });
  }
  try {
    return process.cwd();
  } finally {
    process.chdir(back);
  }
}

/**
 * Whether a file or directory is at `path`, without node:fs. `Bun.file().size` is a stat:
 * 0 when nothing is there, the size of a file, and for a directory whatever the file system
 * reports (0 for an empty one on some); a directory of size 0 is found by entering it.
 */
function entryExists(path: string): boolean {
  if (Bun.file(path).size > 0) return true;
  const back = process.cwd();
  try {
    process.chdir(path);
  } catch {
    return false;
  }
  process.chdir(back);
  return true;
}

/**
 * `--project-dir`, else `VE_PROJECT_DIR`, else the nearest directory upward from `cwd` that
 * holds `.ve/` or `.git`, else `cwd`. Always a physical path, so every spelling of one
 * project reaches the same daemon.
 */
export function resolveProjectRoot({ flag, env, cwd }: RootSources): string {
  if (flag) return physicalDirectory(flag, cwd, "--project-dir");
  if (env) return physicalDirectory(env, cwd, "VE_PROJECT_DIR");
  // The process's own working directory is already physical (getcwd resolves every link).
  const start = cwd === process.cwd() ? cwd : physicalDirectory(cwd, "/", "the working directory");
  for (let dir = start; ; dir = parentPath(dir)) {
    if (entryExists(childPath(dir, STATE_DIR_NAME)) || entryExists(childPath(dir, ".git"))) return dir;
    if (dir === "/") return start;
  }
}

function runtimeSocketDir(): string {
  const uid = process.getuid?.() ?? 0;
  return childPath(process.env.XDG_RUNTIME_DIR || "/tmp", `ve-${uid}`);
}

/** The files of the project at `root`, a normalised absolute physical path. */
export function projectPaths(root: string): ProjectPaths {
  const stateDir = childPath(root, STATE_DIR_NAME);
  let socket = `${stateDir}/orchestrator.sock`;
  const socketInRuntimeDir = new TextEncoder().encode(socket).byteLength > SOCKET_PATH_MAX_BYTES;
  if (socketInRuntimeDir) {
    const digest = new Bun.CryptoHasher("sha256").update(root).digest("hex").slice(0, 16);
    socket = `${runtimeSocketDir()}/${digest}.sock`;
  }
  return {
    root,
    stateDir,
    db: `${stateDir}/orchestrator.db`,
    pid: `${stateDir}/orchestrator.pid`,
    log: `${stateDir}/orchestrator.log`,
    socket,
    socketInRuntimeDir,
    port: `${stateDir}/orchestrator.port`,
    token: `${stateDir}/orchestrator.token`,
  };
}
