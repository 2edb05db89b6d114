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
    returnTo(back);
  }
}

/**
 * Back to the directory the command was started in. It may not be enterable by now (a clone
 * below another user's 0700 directory, a shell in root's home after sudo -u, a deleted
 * directory): then nothing relative to it could be opened anyway, and staying put is harmless.
 */
function returnTo(dir: string): void {
  try {
    process.chdir(dir);
  } catch {}
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
  returnTo(back);
  return true;
}

/** `path` with `.`, `..` and repeated slashes resolved as strings (no link is followed). */
function normalisePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

function absoluteFrom(base: string, path: string): string {
  return normalisePath(path.startsWith("/") ? path : `${base}/${path}`);
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Bun.file(path).text();
  } catch {
    return undefined;
  }
}

/** `worktree = ...` of the `[core]` section of a git config file, if set. */
function coreWorktree(config: string): string | undefined {
  let inCore = false;
  for (const raw of config.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("[")) inCore = line.toLowerCase().startsWith("[core]");
    else if (inCore) {
      const eq = line.indexOf("=");
      if (eq > 0 && line.slice(0, eq).trim().toLowerCase() === "worktree") return line.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/**
 * The project a directory marked by a `.git` *file* belongs to. A linked worktree's file names
 * its git dir (`<main>/.git/worktrees/<name>`), which holds a `commondir` leading to the main
 * repository's git dir: the project is the main repository, so every worktree (the engine's
 * `.ve/worktrees/<chunk>` included) reaches one daemon. A submodule's git dir
 * (`<super>/.git/modules/<name>`) has no `commondir`: the submodule is its own project. Read
 * from the files, not by running git: every command resolves its project.
 */
async function projectOfGitFile(dir: string): Promise<string> {
  const text = await readText(childPath(dir, ".git"));
  const line = text?.split("\n").find((l) => l.startsWith("gitdir:"));
  if (!line) return dir;
  const gitDir = absoluteFrom(dir, line.slice("gitdir:".length).trim());
  const common = (await readText(childPath(gitDir, "commondir")))?.trim();
  if (!common) return dir;
  const commonDir = absoluteFrom(gitDir, common);
  let main: string;
  if (commonDir.endsWith("/.git")) main = parentPath(commonDir);
  else {
    // A git dir not named .git: a submodule's (its main working tree is core.worktree) or a
    // bare repository's (no main working tree: the repository directory is the project).
    const worktree = coreWorktree((await readText(childPath(commonDir, "config"))) ?? "");
    main = worktree ? absoluteFrom(commonDir, worktree) : commonDir;
  }
  try {
    // Physical, like every other root: the same project whatever spelling git recorded.
    return physicalDirectory(main, "/", "git");
  } catch {
    // The main repository moved or was deleted: the worktree is all there is.
    return dir;
  }
}

/**
 * The project `dir` is the root of, if it is marked: a `.git` file of a linked worktree maps
 * to the main repository (even where the worktree has a `.ve/` of its own); otherwise `.ve/`
 * or `.git` make `dir` itself the project. A promise only where a `.git` file must be read:
 * every command walks this, and in an ordinary project the walk awaits nothing.
 */
function markedProject(dir: string): string | Promise<string> | undefined {
  if (hasGitFile(dir)) return projectOfGitFile(dir);
  return isMarkedRoot(dir) ? dir : undefined;
}

/**
 * Whether `dir/.git` is a file (a worktree or a submodule). `.git/HEAD` exists only when .git
 * is a directory, so an ordinary repository costs one stat and no read.
 */
function hasGitFile(dir: string): boolean {
  const git = childPath(dir, ".git");
  return Bun.file(`${git}/HEAD`).size === 0 && Bun.file(git).size > 0;
}

/**
 * `--project-dir`, else `VE_PROJECT_DIR`, else the nearest directory upward from `cwd` that
 * holds `.ve/` or `.git`, else `cwd`. A linked git worktree stands for its main repository.
 * Always a physical path, so every spelling of one project reaches the same daemon.
 */
export async function resolveProjectRoot({ flag, env, cwd }: RootSources): Promise<string> {
  if (flag === "") {
    throw new VeError("usage", "--project-dir is empty; pass a directory, or leave the option out to use the enclosing project.", {
      flag: "--project-dir",
    });
  }
  // An empty variable is an unset one, as the shell convention goes.
  const explicit =
    flag !== undefined
      ? physicalDirectory(flag, cwd, "--project-dir")
      : env
        ? physicalDirectory(env, cwd, "VE_PROJECT_DIR")
        : undefined;
  // A worktree named explicitly stands for its main repository too.
  if (explicit !== undefined) return hasGitFile(explicit) ? projectOfGitFile(explicit) : explicit;
  // The process's own working directory is already physical (getcwd resolves every link).
  const start = cwd === process.cwd() ? cwd : physicalDirectory(cwd, "/", "the working directory");
  return (await nearestMarked(start, true)) ?? start;
}

/**
 * The project `dir` lies in: the nearest marked directory from `dir` upward (`dir` itself
 * only with `includeSelf`), or undefined when nothing up to `/` is marked.
 */
export async function enclosingProject(dir: string, includeSelf = false): Promise<string | undefined> {
  return nearestMarked(dir, includeSelf);
}

/** enclosingProject's walk, synchronous up to the first marked directory. */
function nearestMarked(dir: string, includeSelf: boolean): string | Promise<string> | undefined {
  if (!includeSelf && dir === "/") return undefined;
  for (let at = includeSelf ? dir : parentPath(dir); ; at = parentPath(at)) {
    const project = markedProject(at);
    if (project !== undefined) return project;
    if (at === "/") return undefined;
  }
}

/** Whether `dir` is marked as a project root by a `.ve/` or `.git` of its own. */
export function isMarkedRoot(dir: string): boolean {
  return entryExists(childPath(dir, STATE_DIR_NAME)) || entryExists(childPath(dir, ".git"));
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
