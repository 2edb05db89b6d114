// What the client checks before it sends a request to whatever listens at the socket: the
// socket (and, for a long project path, the per-user directory it lives in) must be this
// user's, or another local user could answer as the daemon and receive every request.
//
// Cost on the request path: no node:fs (loading it costs more than a whole `ve orch ps`).
// The socket's owner comes from Bun's native stat (Bun.file().stat(), about 0.5 ms on its
// first call, most of it the thread pool waking up), started together with the connect and
// awaited only before the request is written, so it overlaps the connect instead of adding
// to it. The runtime-directory case adds two chdir/getcwd pairs (microseconds) to tell a
// real directory from a link, because Bun's stat follows links.
import { VeError } from "../errors.ts";
import type { ProjectPaths } from "../project/paths.ts";
import { TransportError } from "./http.ts";

async function ownerName(uid: number): Promise<string> {
  try {
    for (const line of (await Bun.file("/etc/passwd").text()).split("\n")) {
      const [name, , id] = line.split(":");
      if (id === String(uid) && name) return `uid ${uid} (${name})`;
    }
  } catch {}
  return `uid ${uid}`;
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
}

/** The physical path of a directory (links resolved), or undefined when it cannot be entered. */
function physical(dir: string): string | undefined {
  const back = process.cwd();
  try {
    process.chdir(dir);
  } catch {
    return undefined;
  }
  try {
    return process.cwd();
  } finally {
    process.chdir(back);
  }
}

async function refuse(path: string, what: string, todo: string, details: Record<string, unknown>): Promise<never> {
  throw new VeError("unsafe_path", `ve refused ${path}: ${what}; ${todo}.`, { path, ...details });
}

/** The per-user socket directory: a real directory of ours with no group or other bits. */
async function checkRuntimeDir(dir: string, me: number): Promise<void> {
  const todo = "remove it (its owner or root can), or set XDG_RUNTIME_DIR to a private directory of yours";
  let info: Awaited<ReturnType<ReturnType<typeof Bun.file>["stat"]>>;
  try {
    info = await Bun.file(dir).stat();
  } catch {
    // No directory: no daemon listens there; the connect says so.
    throw new TransportError({ kind: "connect", code: "ENOENT", message: `${dir} does not exist` });
  }
  const slash = dir.lastIndexOf("/");
  const parent = physical(dir.slice(0, slash) || "/");
  const real = physical(dir);
  if (parent === undefined || real !== `${parent === "/" ? "" : parent}${dir.slice(slash)}`) {
    await refuse(dir, "the per-user socket directory is a symbolic link, not a real directory of yours", todo, { found: "symlink" });
  }
  if (!info.isDirectory()) await refuse(dir, "the per-user socket directory is not a directory", todo, {});
  if (info.uid !== me) {
    await refuse(
      dir,
      `the per-user socket directory belongs to ${await ownerName(info.uid)}, not to you (${await ownerName(me)}); its owner could answer as your daemon`,
      todo,
      { owner: info.uid },
    );
  }
  if ((info.mode & 0o077) !== 0) {
    await refuse(
      dir,
      `the per-user socket directory is mode ${octal(info.mode)}, open to other users, who could put a socket of theirs in it`,
      `check what is in it and make it private (\`chmod 700 ${dir}\`)`,
      { mode: octal(info.mode) },
    );
  }
}

/**
 * Resolves when the socket at `paths.socket` is one to send a request to: a socket owned by
 * this user (links are followed, as the connect follows them, so the owner checked is the
 * owner of what answers). A missing socket is a connect failure, as the connect would say.
 */
export async function checkSocket(paths: ProjectPaths): Promise<void> {
  const me = process.getuid?.();
  if (me === undefined) return;
  if (paths.socketInRuntimeDir) await checkRuntimeDir(paths.socket.slice(0, paths.socket.lastIndexOf("/")), me);
  let info: Awaited<ReturnType<ReturnType<typeof Bun.file>["stat"]>>;
  try {
    info = await Bun.file(paths.socket).stat();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "ENOENT";
    throw new TransportError({ kind: "connect", code, message: (error as Error).message });
  }
  if (!info.isSocket()) {
    await refuse(paths.socket, "it is not a socket", "move it away and run `ve orch start`", {});
  }
  if (info.uid !== me) {
    await refuse(
      paths.socket,
      `the socket belongs to ${await ownerName(info.uid)}, not to you (${await ownerName(me)}), so what answers there is not your daemon`,
      "remove it (its owner or root can) and run `ve orch start`",
      { owner: info.uid },
    );
  }
}

/** One line of visible ASCII: what an HTTP header can carry (ve writes 64 hex digits). */
const TOKEN_PATTERN = /^[\x21-\x7e]{1,1024}$/;

/**
 * The TCP endpoint a daemon in TCP mode recorded, if any. Only in TCP mode (or with no daemon
 * at all) does a command get here, so node:fs is loaded only then: the port and token files
 * are opened without following links and must be regular files of this user with no group
 * or other bits, in a `.ve/` of this user's; the token must be one line that fits in a header.
 */
export async function findTcpEndpoint(
  paths: ProjectPaths,
): Promise<{ transport: "tcp"; port: number; token: string } | undefined> {
  // No port file, no TCP daemon: answered by one native stat, without loading node:fs.
  if (Bun.file(paths.port).size === 0) return undefined;
  const { checkPrivateDirectory, readStateText, checkPrivateMode } = await import("../project/safe-files.ts");
  checkPrivateDirectory(paths.stateDir, { role: "the project's state directory", refuseShared: true, alternative: "" });
  const portText = readStateText(paths.port)?.trim();
  if (!portText) return undefined;
  checkPrivateMode(paths.port);
  const tokenText = readStateText(paths.token)?.trim();
  if (!tokenText) return undefined;
  checkPrivateMode(paths.token);
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  if (!TOKEN_PATTERN.test(tokenText)) {
    throw new VeError(
      "unsafe_path",
      `ve refused ${paths.token}: it does not hold a token written by ve; remove it and run \`ve orch start\`.`,
      { path: paths.token },
    );
  }
  return { transport: "tcp", port, token: tokenText };
}
