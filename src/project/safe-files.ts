// Opening the files of `.ve/` (and the per-user socket directory) without trusting what is
// there. A cloned repository can carry a committed `.ve/` whose files are symlinks to
// `~/.bashrc` or `/etc/...`, and another local user can create a predictable directory in
// /tmp first: every open here refuses to follow a link (O_NOFOLLOW), checks on the opened
// descriptor that it got a regular file of this user with no other name (fstat, so nothing
// can be swapped between the check and the use), and every refusal or failure becomes a
// VeError that names the path, what was found and what to do. Uses node:fs: only start,
// stop, status, logs and the daemon load this, never the CLI's request path.
import {
  type Stats,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { VeError, storageFault } from "../errors.ts";

export const PRIVATE_FILE_MODE = 0o600;

/** How a state file is opened. */
export type Access = "read" | "readwrite" | "append" | "create-new";

// O_NONBLOCK everywhere: an open of a FIFO put in place of a file would otherwise wait forever
// for its other end (on a regular file the flag changes nothing).
const FLAGS: Record<Access, number> = {
  read: constants.O_RDONLY,
  readwrite: constants.O_RDWR | constants.O_CREAT,
  append: constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
  "create-new": constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
};

function uid(): number | undefined {
  return process.getuid?.();
}

/** `uid 1001 (alice)`: who owns something, for a message (the name from /etc/passwd when there). */
export function describeOwner(owner: number): string {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const [name, , id] = line.split(":");
      if (id === String(owner) && name) return `uid ${owner} (${name})`;
    }
  } catch {}
  return `uid ${owner}`;
}

function you(): string {
  const me = uid();
  return me === undefined ? "you" : `you, ${describeOwner(me)}`;
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
}

function kindOf(info: Stats): string {
  if (info.isSymbolicLink()) return "a symbolic link";
  if (info.isDirectory()) return "a directory";
  if (info.isFile()) return "a regular file";
  if (info.isSocket()) return "a socket";
  if (info.isFIFO()) return "a named pipe";
  return "a device or other special file";
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** The refusal of a path ve does not trust. */
export function refused(path: string, what: string, todo: string, details: Record<string, unknown> = {}): VeError {
  return new VeError("unsafe_path", `ve refused ${path}: ${what}; ${todo}.`, { path, ...details });
}

function symlinkRefusal(path: string): VeError {
  let target = "";
  try {
    target = ` to ${readlinkSync(path)}`;
  } catch {}
  return refused(
    path,
    `it is a symbolic link${target}, and ve never follows a link among its state files (a cloned repository could point one at any file)`,
    "remove the link",
    { found: "symlink" },
  );
}

/**
 * A system error on `path` as a message about the system's state, never "a bug": permission,
 * a read-only file system, a full disk, a directory where a file should be.
 */
export function fileError(error: unknown, path: string, action: string): VeError {
  if (error instanceof VeError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? "";
  const reason = (error as Error).message ?? String(error);
  const details = { path, errno_code: code };
  switch (code) {
    case "ELOOP":
      return symlinkRefusal(path);
    case "EACCES":
    case "EPERM": {
      const own = lstatOrUndefined(path);
      const where = own ?? lstatOrUndefined(parentOf(path));
      const name = own ? path : parentOf(path);
      const state = where ? ` (${name} is mode ${octal(where.mode)}, owned by ${describeOwner(where.uid)})` : "";
      return new VeError(
        "storage_unavailable",
        `Cannot ${action} ${path}: permission denied${state}; make it accessible to ${you()} (for example \`chmod u+rwX ${name}\`), or run ve as its owner.`,
        details,
      );
    }
    case "ENOTDIR":
      return new VeError(
        "io_failed",
        `Cannot ${action} ${path}: a part of that path is a file, not a directory; move that file away (ve keeps its state in the directory ${parentOf(path)}).`,
        details,
      );
    case "EISDIR":
      return refused(path, "it is a directory where ve keeps a file", "move it away", { found: "directory" });
    default:
      // A full, read-only or failing disk: the storage errors every part of ve reports alike.
      return storageFault(error, path, action) ?? new VeError("io_failed", `Cannot ${action} ${path} (${reason}).`, details);
  }
}

/** Refuses an opened (or lstat'ed) entry that is not a regular file of ours with one name. */
function checkStateFileInfo(path: string, info: Stats): void {
  if (!info.isFile()) {
    throw refused(path, `it is ${kindOf(info)}, not a regular file`, "move it away so ve can create its own", {
      found: kindOf(info),
    });
  }
  const me = uid();
  if (me !== undefined && info.uid !== me) {
    throw refused(path, `it belongs to ${describeOwner(info.uid)}, not to ${you()}`, "remove it (its owner or root can)", {
      owner: info.uid,
    });
  }
  if (info.nlink > 1) {
    throw refused(path, `it has ${info.nlink} names (hard links), so writing it would change another file`, "remove it", {
      links: info.nlink,
    });
  }
}

/**
 * O_NOFOLLOW guards the last step of a path only: the directory holding a state file (`.ve/`)
 * must itself be a real directory of the user's, or `.ve -> /etc` would put every file there.
 */
function checkParent(path: string): void {
  const dir = parentOf(path);
  const info = lstatOrUndefined(dir);
  if (!info) return;
  if (info.isSymbolicLink()) {
    let target = "";
    try {
      target = ` to ${readlinkSync(dir)}`;
    } catch {}
    throw refused(dir, `it is a symbolic link${target}, and ve keeps its files only in a real directory of yours`, "remove the link", {
      found: "symlink",
    });
  }
  const me = uid();
  if (me !== undefined && info.isDirectory() && info.uid !== me) {
    throw refused(dir, `it belongs to ${describeOwner(info.uid)}, not to ${you()}`, "remove it (its owner or root can)", {
      owner: info.uid,
    });
  }
}

/** Whether the directory holding `path` passes checkParent (for code that only skips what it cannot trust). */
export function parentTrusted(path: string): boolean {
  try {
    checkParent(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens a state file with O_NOFOLLOW and checks the descriptor. `read` of a missing file
 * gives undefined; every other failure is a VeError.
 */
export function openStateFile(path: string, access: "read"): number | undefined;
export function openStateFile(path: string, access: Exclude<Access, "read">, mode?: number): number;
export function openStateFile(path: string, access: Access, mode = PRIVATE_FILE_MODE): number | undefined {
  checkParent(path);
  let fd: number;
  try {
    fd = openSync(path, FLAGS[access] | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode);
  } catch (error) {
    if (access === "read" && (error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    if ((error as NodeJS.ErrnoException).code === "ENXIO") {
      // O_NONBLOCK|O_WRONLY on a FIFO with no reader, or a socket: not a file of ours.
      throw refused(path, "it is not a regular file", "move it away so ve can create its own");
    }
    throw fileError(error, path, access === "read" ? "read" : "write");
  }
  try {
    checkStateFileInfo(path, fstatSync(fd));
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

/**
 * Replaces `path` with a file holding `content`: written aside under a name of its own (created
 * new, so never through a link) and renamed over `path` (rename replaces a link, never its
 * target), so a reader sees the old file or the new one, never half of one. System errors
 * are thrown as they are, for the caller to name.
 */
export function writeFileAside(path: string, content: string): void {
  const aside = `${path}.${process.pid}.tmp`;
  // A leftover of a crashed writer with our pid; unlink never follows a link either.
  rmSync(aside, { force: true });
  const fd = openSync(aside, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, PRIVATE_FILE_MODE);
  try {
    try {
      const bytes = Buffer.from(content);
      for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
    } finally {
      closeSync(fd);
    }
    renameSync(aside, path);
  } catch (error) {
    rmSync(aside, { force: true });
    throw error;
  }
}

/** The text of a state file, or undefined when it does not exist; never through a link. */
export function readStateText(path: string): string | undefined {
  const fd = openStateFile(path, "read");
  if (fd === undefined) return undefined;
  try {
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n <= 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
    }
    return Buffer.concat(chunks).toString("utf8");
  } catch (error) {
    throw fileError(error, path, "read");
  } finally {
    closeSync(fd);
  }
}

/**
 * A file SQLite (or anything else) will open by name: if something is there, it must be a
 * regular file of ours with one name, not a link. Safe from swaps because `.ve/` is ours and
 * 0700 (checked first by ensureStateDir).
 */
export function checkStateFile(path: string): void {
  checkParent(path);
  const info = lstatOrUndefined(path);
  if (!info) return;
  if (info.isSymbolicLink()) throw symlinkRefusal(path);
  checkStateFileInfo(path, info);
}

/** Refuses a state file that group or others may read or write (the port and token files). */
export function checkPrivateMode(path: string): void {
  const info = lstatOrUndefined(path);
  if (info && (info.mode & 0o077) !== 0) {
    throw refused(path, `it is mode ${octal(info.mode)}, open to other users, so ve did not write it`, "remove it and run `ve orch start`", {
      mode: octal(info.mode),
    });
  }
}

export interface DirectoryRules {
  /** What to say the directory is for, in a refusal ("the per-user socket directory"). */
  role: string;
  /** Refuse any group or other permission bit instead of removing them. */
  refuseShared: boolean;
  /** What else the user can do about a refusal (e.g. "or set XDG_RUNTIME_DIR to a private directory"). */
  alternative: string;
}

/**
 * Checks a directory ve keeps private files in, by lstat and then on an O_NOFOLLOW descriptor:
 * a real directory (not a link), owned by this user, usable by this user. Group or other bits
 * are refused (`refuseShared`) or removed, never added: a directory the user made 0500 stays
 * 0500 and is reported, not silently made writable again.
 */
export function checkPrivateDirectory(path: string, rules: DirectoryRules): void {
  const info = lstatOrUndefined(path);
  if (!info) throw new VeError("io_failed", `${path} does not exist.`, { path });
  if (info.isSymbolicLink()) {
    let target = "";
    try {
      target = ` to ${readlinkSync(path)}`;
    } catch {}
    throw refused(
      path,
      `${rules.role} is a symbolic link${target}, and ve keeps its files only in a real directory of yours`,
      `remove the link${rules.alternative}`,
      { found: "symlink" },
    );
  }
  if (!info.isDirectory()) {
    throw refused(path, `${rules.role} is ${kindOf(info)}, not a directory`, `move it away${rules.alternative}`, {
      found: kindOf(info),
    });
  }
  const me = uid();
  if (me !== undefined && info.uid !== me) {
    throw refused(
      path,
      `${rules.role} belongs to ${describeOwner(info.uid)}, not to ${you()}; its owner could stand in for your daemon or read your files`,
      `remove it (its owner or root can)${rules.alternative}`,
      { owner: info.uid },
    );
  }
  if ((info.mode & 0o077) !== 0 && rules.refuseShared) {
    throw refused(
      path,
      `${rules.role} is mode ${octal(info.mode)}, open to other users, who could put a socket or file of theirs in it`,
      `check what is in it and make it private (\`chmod 700 ${path}\`)${rules.alternative}`,
      { mode: octal(info.mode) },
    );
  }
  if ((info.mode & 0o700) !== 0o700) {
    throw new VeError(
      "io_failed",
      `${path} (${rules.role}) is mode ${octal(info.mode)}: ve needs to read, write and enter it; \`chmod u+rwx ${path}\` if that was not on purpose.`,
      { path, mode: octal(info.mode) },
    );
  }
  if ((info.mode & 0o077) !== 0) {
    // Through a descriptor opened without following links: the directory checked above.
    let fd: number | undefined;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      const opened = fstatSync(fd);
      if (opened.ino !== info.ino || opened.dev !== info.dev) throw refused(path, "it was replaced while ve checked it", "try again");
      fchmodSync(fd, info.mode & 0o700);
    } catch (error) {
      throw fileError(error, path, "make private");
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
