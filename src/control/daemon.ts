// Starting, stopping and inspecting a daemon from the CLI. This module runs in the CLI
// process: it must not import the daemon's server code (that is what the re-executed child
// loads).
import { closeSync, fstatSync, lstatSync, readSync, statfsSync } from "node:fs";
import { Client, requestTimeoutMs } from "../client/client.ts";
import { compareVersions, VERSION } from "../version.ts";
import { VeError, storageFault } from "../errors.ts";
import type { DaemonStatus } from "../models/index.ts";
import type { ProjectPaths } from "../project/paths.ts";
import { openStateFile } from "../project/safe-files.ts";
import { ensureStateDir } from "../project/state-dir.ts";
import { isLockHeld, readPid, withLockFree } from "../project/lock.ts";
import { type DaemonProcess, holdsLock, lockHolder, permissionDenied } from "./identity.ts";
import { DAEMON_COMMAND, EXIT_ANOTHER_DAEMON, EXIT_STORAGE_FULL, EXIT_STORAGE_UNAVAILABLE, LOST_STATE_MARKER } from "../project/protocol.ts";
import { removeTransportFiles, transportFiles } from "../project/transport-files.ts";


/** A start takes tens of ms; this only bounds a daemon that never answers (an overloaded machine is slow, not hung). */
export const START_TIMEOUT_MS = 20_000;

/** VE_START_TIMEOUT_MS, for a machine known to be slower still. */
export function startTimeoutMs(): number {
  const fromEnv = Number(process.env.VE_START_TIMEOUT_MS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : START_TIMEOUT_MS;
}
export const STOP_TIMEOUT_MS = 10_000;
/** How long `stop --drain` lets running phases finish by default: as long as run_timeout_s allows one run by default. */
export const DRAIN_TIMEOUT_MS = 3_600_000;
/** After SIGKILL the kernel frees the lock at once; this only bounds a pathological wait. */
const KILL_WAIT_MS = 5000;
const POLL_INTERVAL_MS = 10;
/** A readiness probe must be short: the daemon is local and either answers at once or is not up. */
const PROBE_TIMEOUT_MS = 1000;
const LOG_TAIL_LINES = 20;

export interface StartOptions {
  tcp: boolean;
  port?: number | undefined;
  timeoutMs?: number;
}

export interface StartResult {
  alreadyRunning: boolean;
  status: DaemonStatus;
  /** Why the state starts empty, when the previous daemon ended because its files went away. */
  notice?: string;
  /** What the daemon this start launched warned about while starting (renamed units, ...), for stderr. */
  warnings: string[];
}

/**
 * The previous daemon's last word, if it ended because `.ve/` (or its database, lock file or
 * socket) went away under it and no database has been made since: the user is about to get an
 * empty state and should know why.
 */
function lostStateNotice(paths: ProjectPaths): string | undefined {
  if (lstatSync(paths.db, { throwIfNoEntry: false })) return undefined;
  const last = readLogTail(paths.log, 0).at(-1);
  const at = last?.indexOf(LOST_STATE_MARKER) ?? -1;
  if (!last || at === -1) return undefined;
  const why = last.slice(at + LOST_STATE_MARKER.length).replace(/^: /, "").replace(/; it has stopped$/, "");
  return `the previous daemon stopped because ${why}; this one starts with an empty state.`;
}

export interface StopResult {
  /** Whether a daemon was running and has now ended. */
  stopped: boolean;
  pid: number | null;
  /** SIGKILL was needed because it ignored SIGTERM for the whole timeout. */
  killed: boolean;
  /** Files of a crashed daemon that were removed. */
  removedStaleFiles: string[];
}

export interface StaleState {
  /** Files left behind by a daemon that no longer runs. */
  staleFiles: string[];
  /** A pid recorded by a daemon that no longer runs. */
  stalePid: number | null;
  /** A process holds the lock but has no reachable endpoint (starting, or its socket was deleted). */
  lockHolder: number | null;
}

/** The command line of the daemon child: this very binary (or script) in daemon mode. */
export function daemonCommand(root: string, options: StartOptions): string[] {
  const self = Bun.isStandaloneExecutable ? [process.execPath] : [process.execPath, Bun.main];
  const command = [...self, DAEMON_COMMAND, "--project-dir", root];
  if (options.tcp) command.push("--tcp");
  if (options.port !== undefined) command.push("--port", String(options.port));
  return command;
}

/** At most this much of the log is read for a start's report. */
const LOG_READ_MAX_BYTES = 64 * 1024;

/**
 * The log's lines written since byte `from` (all of it when it was rotated meanwhile), at most
 * LOG_READ_MAX_BYTES of them: the first (what a start wrote first) or the last (how it ended).
 */
function logLinesSince(path: string, from: number, keep: "first" | "last"): string[] {
  let fd: number | undefined;
  try {
    fd = openStateFile(path, "read");
  } catch {
    // A log ve refuses to read (a link, another user's) adds nothing to the report.
  }
  if (fd === undefined) return [];
  try {
    const size = fstatSync(fd).size;
    const start = size >= from ? from : 0;
    const length = Math.min(size - start, LOG_READ_MAX_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, keep === "last" ? size - length : start);
    return buffer.toString("utf8").split("\n").filter(Boolean);
  } finally {
    closeSync(fd);
  }
}

function readLogTail(path: string, from: number): string[] {
  return logLinesSince(path, from, "last").slice(-LOG_TAIL_LINES);
}

/** Whether the file system holding `dir` has no block (or inode) left: a start there fails whatever the log says. */
function diskFull(dir: string): boolean {
  try {
    const fs = statfsSync(dir);
    return fs.bavail === 0 || fs.ffree === 0;
  } catch {
    return false;
  }
}

/** The WARN entries written to the log from `from` on (the start of the daemon we launched), without their prefix. */
function startWarnings(path: string, from: number): string[] {
  return logLinesSince(path, from, "first")
    .filter((line) => / WARN /.test(line))
    .map((line) => line.replace(/^\S+ +WARN +/, ""));
}

function startFailed(paths: ProjectPaths, why: string, logOffset: number, exitCode?: number): VeError {
  const tail = readLogTail(paths.log, logOffset);
  // A log entry may span lines (continuations are indented); the reason is a whole entry.
  const entries: string[] = [];
  for (const line of tail) {
    if (line.startsWith("    ") && entries.length > 0) entries[entries.length - 1] += ` ${line.trim()}`;
    else entries.push(line);
  }
  const failure = entries.findLast((entry) => / (ERROR|FATAL) /.test(entry));
  const last = failure ?? entries.at(-1);
  const reason = last ? `: ${last.replace(/^\S+ +\S+ +/, "")}` : "";
  // The log is on the same disk: when it is full, the reason may never have been written.
  if (exitCode === EXIT_STORAGE_UNAVAILABLE) {
    return new VeError(
      "storage_unavailable",
      `The ve daemon ${why}${failure ? `: ${failure.replace(/^\S+ +\S+ +/, "")}` : `: the disk holding ${paths.stateDir} refused a write (read-only, failing or not writable by you)`}`,
      { path: paths.stateDir, log: paths.log, log_tail: tail },
    );
  }
  if (exitCode === EXIT_STORAGE_FULL || diskFull(paths.stateDir)) {
    const said = failure ? `: ${failure.replace(/^\S+ +\S+ +/, "")}` : "";
    return new VeError(
      "storage_full",
      said.includes("free space")
        ? `The ve daemon ${why}${said}`
        : `The ve daemon ${why}${said}; the disk holding ${paths.stateDir} is full: free space there and run \`ve orch start\` again.`,
      { path: paths.stateDir, log: paths.log, log_tail: tail },
    );
  }
  return new VeError("daemon_start_failed", `The ve daemon ${why}${reason}`, {
    log: paths.log,
    log_tail: tail,
  });
}

/** Answers that mean "no daemon serves here right now": one may be starting or stopping. */
const NOT_SERVING = new Set(["daemon_not_running", "daemon_unresponsive", "daemon_stopping"]);

async function probe(client: Client): Promise<DaemonStatus | undefined> {
  try {
    return (await client.status()).data;
  } catch (error) {
    if (error instanceof VeError && NOT_SERVING.has(error.code)) return undefined;
    throw error;
  }
}

/** A start that keeps losing the lock to daemons that then exit is a fault, not a race. */
const MAX_SPAWNS = 5;

function spawnDaemon(paths: ProjectPaths, options: StartOptions): { child: ReturnType<typeof Bun.spawn>; logOffset: number } {
  let logFd: number;
  try {
    // Never through a link: the child writes to what this opens.
    logFd = openStateFile(paths.log, "append");
  } catch (error) {
    throw storageFault(error, paths.log, "open the daemon log") ?? error;
  }
  try {
    const logOffset = fstatSync(logFd).size;
    // detached: a new session, so neither closing the terminal nor Ctrl-C reaches the daemon.
    const child = Bun.spawn(daemonCommand(paths.root, options), {
      cwd: paths.root,
      detached: true,
      stdio: ["ignore", logFd, logFd],
    });
    child.unref();
    return { child, logOffset };
  } finally {
    closeSync(logFd);
  }
}

/**
 * Starts the project's daemon unless one answers. A daemon that holds the lock without
 * answering is starting (it will answer) or stopping (it will let go): start waits for it, and
 * then starts its own if the lock came free.
 */
export async function startDaemon(paths: ProjectPaths, options: StartOptions): Promise<StartResult> {
  const client = new Client(paths, { timeoutMs: Math.min(PROBE_TIMEOUT_MS, requestTimeoutMs()) });
  try {
    return { alreadyRunning: true, status: (await client.status()).data, warnings: [] };
  } catch (error) {
    // A daemon that holds the project but does not answer (suspended, overloaded) is reported
    // at once: starting another cannot help.
    if (!(error instanceof VeError) || (error.code !== "daemon_not_running" && error.code !== "daemon_stopping")) throw error;
  }

  const notice = lostStateNotice(paths);
  ensureStateDir(paths);
  const timeoutMs = options.timeoutMs ?? startTimeoutMs();
  const deadline = Date.now() + timeoutMs;
  let ours: { child: ReturnType<typeof Bun.spawn>; logOffset: number } | undefined;
  let spawns = 0;
  let logOffset = lstatSync(paths.log, { throwIfNoEntry: false })?.size ?? 0;
  while (Date.now() < deadline) {
    const status = await probe(client);
    // In a race of starts, the daemon that answers may be another start's: then ours lost.
    if (status) {
      const alreadyRunning = status.pid !== ours?.child.pid;
      return {
        alreadyRunning,
        status,
        warnings: alreadyRunning ? [] : startWarnings(paths.log, logOffset),
        ...(notice && !alreadyRunning ? { notice } : {}),
      };
    }
    const exitCode = ours?.child.exitCode ?? null;
    if (ours?.child.signalCode) throw startFailed(paths, `was killed by ${ours.child.signalCode} during start`, logOffset);
    // 0: a stop asked for while it started (`ve orch stop` in another shell). This start still
    // means to leave a daemon running, as a start after that stop would.
    const stoppedWhileStarting = exitCode === 0;
    if (exitCode !== null && exitCode !== EXIT_ANOTHER_DAEMON && !stoppedWhileStarting) {
      throw startFailed(paths, `exited during start (code ${exitCode})`, logOffset, exitCode);
    }
    // No child yet, or ours lost the lock to a daemon that has since let go (or was stopped):
    // start one, unless a daemon (starting, or stopping) holds the lock now.
    if ((!ours || exitCode === EXIT_ANOTHER_DAEMON || stoppedWhileStarting) && !isLockHeld(paths.pid)) {
      if (spawns === MAX_SPAWNS) throw startFailed(paths, `was stopped, or lost the lock to a daemon that then exited, ${MAX_SPAWNS} times while starting`, logOffset);
      ours = spawnDaemon(paths, options);
      logOffset = ours.logOffset;
      spawns += 1;
    }
    await Bun.sleep(POLL_INTERVAL_MS);
  }
  const holder = isLockHeld(paths.pid) ? readPid(paths.pid) : undefined;
  if (holder !== undefined && holder !== ours?.child.pid) {
    throw new VeError(
      "daemon_start_failed",
      `A ve daemon (pid ${holder}) holds ${paths.pid} but did not answer within ${timeoutMs / 1000} s; see \`ve orch status\` and \`ve orch logs\`, or end it with \`ve orch stop\`.`,
      { pid: holder, log: paths.log },
    );
  }
  // Ours never answered: it is ended, so that a start reported as failed leaves no daemon that
  // comes up later behind the user's back.
  let ended = "";
  if (ours && ours.child.exitCode === null) {
    const daemon = await lockHolder(paths);
    if (daemon?.pid === ours.child.pid) {
      await stopDaemon(paths);
      ended = ", and was stopped";
    } else {
      ours.child.kill("SIGKILL");
      ended = ", and was ended";
    }
    ended += " (on a machine this slow, set VE_START_TIMEOUT_MS higher and start again)";
  }
  throw startFailed(paths, `did not answer within ${timeoutMs / 1000} s${ended}`, logOffset);
}

/** Removes what a crashed daemon left, holding the lock so no daemon can start meanwhile. */
export function removeStaleFiles(paths: ProjectPaths): string[] {
  let removed: string[] = [];
  withLockFree(paths.pid, () => {
    removed = removeTransportFiles(paths).removed;
  });
  return removed;
}

/** What a daemon that is not answering left behind: reported by `status`, never fatal. */
export function inspectStaleState(paths: ProjectPaths): StaleState {
  const held = isLockHeld(paths.pid);
  const pid = readPid(paths.pid) ?? null;
  return {
    staleFiles: held ? [] : transportFiles(paths),
    stalePid: held ? null : pid,
    lockHolder: held ? pid : null,
  };
}

/** Sends `signal` to the confirmed daemon; false if it is already gone. */
function signalDaemon(paths: ProjectPaths, daemon: DaemonProcess, signal: NodeJS.Signals): boolean {
  try {
    process.kill(daemon.pid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EPERM") throw permissionDenied(paths, `signalling pid ${daemon.pid}`);
    if (code === "ESRCH") return false;
    throw error;
  }
}

async function waitUntilGone(paths: ProjectPaths, daemon: DaemonProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (holdsLock(paths, daemon)) {
    if (Date.now() >= deadline) return false;
    await Bun.sleep(POLL_INTERVAL_MS);
  }
  return true;
}

/**
 * Stops the daemon holding the project's lock (see identity.ts: never a pid a socket names).
 * Returns once that process is gone, even if another daemon has taken the lock since.
 */
export async function stopDaemon(paths: ProjectPaths, timeoutMs = STOP_TIMEOUT_MS): Promise<StopResult> {
  const daemon = await lockHolder(paths);
  if (!daemon) return { stopped: false, pid: null, killed: false, removedStaleFiles: removeStaleFiles(paths) };
  const { pid } = daemon;
  const stopped = (killed: boolean): StopResult => ({ stopped: true, pid, killed, removedStaleFiles: removeStaleFiles(paths) });

  if (!signalDaemon(paths, daemon, "SIGTERM")) return stopped(false);
  // A suspended daemon only handles SIGTERM once it runs again.
  try {
    process.kill(pid, "SIGCONT");
  } catch {}
  return stopped(await awaitEnd(paths, daemon, timeoutMs));
}

/** Waits up to `timeoutMs` for the daemon to end, then SIGKILLs it; true when it had to be killed. */
async function awaitEnd(paths: ProjectPaths, daemon: DaemonProcess, timeoutMs: number): Promise<boolean> {
  if (await waitUntilGone(paths, daemon, timeoutMs)) return false;
  // holdsLock rechecked the start time and the lock just now: a reused pid is never killed.
  if (!signalDaemon(paths, daemon, "SIGKILL")) return false;
  if (!(await waitUntilGone(paths, daemon, KILL_WAIT_MS))) {
    throw new VeError("daemon_stop_failed", `The ve daemon (pid ${daemon.pid}) survived SIGKILL; check it with \`ps ${daemon.pid}\`.`, {
      pid: daemon.pid,
    });
  }
  return true;
}

export interface DrainResult extends StopResult {
  /** Runs that finished their phase while the daemon drained; null when no daemon ran. */
  finished: number | null;
  /** Runs still running after the bound, closed `interrupted` by the stop; null when no daemon ran. */
  interrupted: number | null;
}

/** How long the drain's answer may take beyond the bound itself (a busy daemon, a slow landing). */
const DRAIN_ANSWER_MARGIN_MS = 5000;

/**
 * `ve orch stop --drain`: asks the daemon holding the lock (over its API: a signal carries no
 * bound) to let running phases finish for up to `drainMs`, then waits for it to end as a plain
 * stop does, SIGKILL after `stopTimeoutMs`. A daemon that cannot be asked is left running.
 */
export async function drainDaemon(paths: ProjectPaths, drainMs: number, stopTimeoutMs = STOP_TIMEOUT_MS): Promise<DrainResult> {
  const daemon = await lockHolder(paths);
  if (!daemon) return { stopped: false, pid: null, killed: false, removedStaleFiles: removeStaleFiles(paths), finished: null, interrupted: null };
  const client = new Client(paths, { timeoutMs: drainMs + DRAIN_ANSWER_MARGIN_MS });
  let outcome: { finished: number; interrupted: number };
  try {
    outcome = (await client.shutdown(drainMs)).data;
  } catch (error) {
    // Gone, or ending anyway (a SIGTERM overtook the drain): it stops as a plain stop would.
    if (!holdsLock(paths, daemon) || (error instanceof VeError && error.code === "daemon_stopping")) {
      const killed = await awaitEnd(paths, daemon, stopTimeoutMs);
      return { stopped: true, pid: daemon.pid, killed, removedStaleFiles: removeStaleFiles(paths), finished: null, interrupted: null };
    }
    const why = (error instanceof Error ? error.message : String(error)).replace(/\.$/, "");
    const code = error instanceof VeError ? error.code : "bad_response";
    // A request that timed out may still be read once the daemon runs again.
    const state = code === "daemon_unresponsive" ? "it still runs and may act on the request later" : "it still runs";
    throw new VeError(
      code,
      `The ve daemon (pid ${daemon.pid}) did not take the drain request, so ${state}: ${why}. \`ve orch stop\` without --drain stops it, interrupting its runs.`,
      { pid: daemon.pid },
    );
  }
  const killed = await awaitEnd(paths, daemon, stopTimeoutMs);
  return { stopped: true, pid: daemon.pid, killed, removedStaleFiles: removeStaleFiles(paths), ...outcome };
}

/** What `start` says on stderr when the daemon already running is of another version. */
export function versionNotice(running: string): string | undefined {
  if (running === VERSION) return undefined;
  const order = compareVersions(running, VERSION);
  if (order < 0) {
    return `the running daemon is ve ${running}, older than this ve ${VERSION}; \`ve orch restart\` replaces it with this one (the state is kept).`;
  }
  return `the running daemon is ve ${running}, newer than this ve ${VERSION}; \`ve orch restart\` would replace it with this older one.`;
}

export interface RestartOptions {
  /** Unset: the transport (and TCP port) of the daemon that ran. */
  tcp?: boolean | undefined;
  port?: number | undefined;
  stopTimeoutMs?: number;
}

export interface RestartResult {
  stopped: StopResult;
  started: StartResult;
  /** The version of the daemon that was stopped, when it answered. */
  previousVersion: string | null;
}

/** Stops the project's daemon (if any) and starts one with this binary; the state is kept. */
export async function restartDaemon(paths: ProjectPaths, options: RestartOptions = {}): Promise<RestartResult> {
  const client = new Client(paths, { timeoutMs: Math.min(PROBE_TIMEOUT_MS, requestTimeoutMs()) });
  let running: DaemonStatus | undefined;
  try {
    running = await probe(client);
  } catch {
    // Whatever answered does not decide anything here: the stop goes by the lock.
  }
  const keepTcp = options.tcp === undefined && running?.transport === "tcp";
  const tcp = options.tcp ?? keepTcp;
  const port = options.port ?? (keepTcp && running?.port ? running.port : undefined);
  const stopped = await stopDaemon(paths, options.stopTimeoutMs ?? STOP_TIMEOUT_MS);
  const started = await startDaemon(paths, { tcp, port });
  return { stopped, started, previousVersion: running?.version ?? null };
}
