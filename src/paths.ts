// Where a project's files live. Shared by the CLI, the client and the daemon, so it must stay
// light: the CLI imports it on every run.
import { chmodSync, existsSync, lstatSync, mkdirSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { VeError } from "./errors.ts";

export const STATE_DIR_NAME = ".ve";
export const STATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
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

function existingDirectory(path: string, source: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new VeError("usage", `The project directory ${path} (from ${source}) does not exist; pass an existing directory.`, {
      path,
    });
  }
  if (!statSync(real).isDirectory()) {
    throw new VeError("usage", `The project directory ${path} (from ${source}) is not a directory.`, { path });
  }
  return real;
}

/**
 * `--project-dir`, else `VE_PROJECT_DIR`, else the nearest directory upward from `cwd` that
 * holds `.ve/` or `.git`, else `cwd`. Always a real path, so every spelling of one project
 * reaches the same daemon.
 */
export function resolveProjectRoot({ flag, env, cwd }: RootSources): string {
  if (flag) return existingDirectory(resolve(cwd, flag), "--project-dir");
  if (env) return existingDirectory(resolve(cwd, env), "VE_PROJECT_DIR");
  const start = existingDirectory(cwd, "the working directory");
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, STATE_DIR_NAME)) || existsSync(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

function runtimeSocketDir(): string {
  const uid = process.getuid?.() ?? 0;
  return join(process.env.XDG_RUNTIME_DIR || "/tmp", `ve-${uid}`);
}

export function projectPaths(root: string): ProjectPaths {
  const stateDir = join(root, STATE_DIR_NAME);
  let socket = join(stateDir, "orchestrator.sock");
  const socketInRuntimeDir = Buffer.byteLength(socket) > SOCKET_PATH_MAX_BYTES;
  if (socketInRuntimeDir) {
    // Bun's native hasher: importing node:crypto would cost the CLI a millisecond at start.
    const digest = new Bun.CryptoHasher("sha256").update(root).digest("hex").slice(0, 16);
    socket = join(runtimeSocketDir(), `${digest}.sock`);
  }
  return {
    root,
    stateDir,
    db: join(stateDir, "orchestrator.db"),
    pid: join(stateDir, "orchestrator.pid"),
    log: join(stateDir, "orchestrator.log"),
    socket,
    socketInRuntimeDir,
    port: join(stateDir, "orchestrator.port"),
    token: join(stateDir, "orchestrator.token"),
  };
}

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
  const gitignore = join(paths.stateDir, ".gitignore");
  if (!existsSync(gitignore)) writeFileSync(gitignore, "*\n", { mode: PRIVATE_FILE_MODE });
}
