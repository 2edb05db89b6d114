// An agent process in its own process group, its output as lines, and the ladder that ends it:
// SIGTERM to the group, a bounded wait, SIGKILL to the group, then (Linux) whatever is left
// with its working directory inside the worktree. A process is only ever signalled when the
// kernel confirms it is the one we started (pid and start time), and never a pid or group <= 1.
import { isSameProcess, processGroupMembers, processInfo, processesWithCwdInside } from "../platform/process.ts";

/** How long a group gets between SIGTERM and SIGKILL. */
export const TERM_GRACE_MS = 3000;
/** After SIGKILL the kernel ends a group at once; this only bounds a pathological wait. */
const KILL_WAIT_MS = 2000;
const GROUP_POLL_MS = 20;
/**
 * Once the agent itself exited, a grandchild may still hold its stdout open: its output is read
 * for this long more, then the group is ended so the run can close.
 */
export const DRAIN_AFTER_EXIT_MS = 2000;

export type OutputStream = "stdout" | "stderr";

export interface SpawnSpec {
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** Written to stdin, then end of file; null closes stdin at once. */
  stdin: string | null;
  onLine: (stream: OutputStream, line: string) => void;
}

export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

export interface Exit {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: string | null;
}

export interface AgentProcess extends ProcessIdentity {
  /** Resolves once the process exited and its output was read to the end (or the drain bound passed). */
  done: Promise<Exit>;
  /** Milliseconds since the epoch of the last output line (or the start). */
  lastOutputAt(): number;
}

/**
 * The longest line kept whole, in characters (the run log's own bound). An agent printing
 * without newlines would otherwise grow one string in the daemon until it runs out of memory.
 */
export const MAX_LINE_CHARS = 8 * 1024 * 1024;

function splitLines(stream: ReadableStream<Uint8Array>, name: OutputStream, onLine: SpawnSpec["onLine"], touch: () => void) {
  const decoder = new TextDecoder();
  let partial = "";
  // The line was cut and its rest is dropped until its newline.
  let dropping = false;
  const emit = (line: string) => onLine(name, line.endsWith("\r") ? line.slice(0, -1) : line);
  const take = (text: string) => {
    let start = 0;
    for (;;) {
      const end = text.indexOf("\n", start);
      if (end === -1) break;
      if (dropping) dropping = false;
      else emit(partial + text.slice(start, end));
      partial = "";
      start = end + 1;
    }
    if (dropping || start === text.length) return;
    partial += text.slice(start);
    if (partial.length > MAX_LINE_CHARS) {
      onLine(name, `${partial.slice(0, MAX_LINE_CHARS)} [ve: the rest of this line, beyond ${MAX_LINE_CHARS} characters, was not kept]`);
      partial = "";
      dropping = true;
    }
  };
  const reader = stream.getReader();
  const finished = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      touch();
      take(decoder.decode(value, { stream: true }));
    }
    take(decoder.decode());
    if (partial !== "") emit(partial);
  })().catch(() => {});
  return { finished, cancel: () => reader.cancel().catch(() => {}) };
}

/**
 * Starts `argv` as the leader of a new session and process group (so the whole tree can be
 * signalled at once), with both pipes drained concurrently: a full stderr pipe must never
 * stall an agent that only writes stdout.
 */
export function startProcess(spec: SpawnSpec): AgentProcess {
  const child = Bun.spawn([...spec.argv], {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdin: spec.stdin === null ? "ignore" : new Blob([spec.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const pid = child.pid;
  // Read at once: the identity every later signal is checked against.
  const startTime = processInfo(pid)?.startTime ?? "";
  let last = Date.now();
  const touch = () => {
    last = Date.now();
  };
  const out = splitLines(child.stdout as ReadableStream<Uint8Array>, "stdout", spec.onLine, touch);
  const err = splitLines(child.stderr as ReadableStream<Uint8Array>, "stderr", spec.onLine, touch);
  const done = (async (): Promise<Exit> => {
    await child.exited;
    const drained = Promise.all([out.finished, err.finished]).then(() => true);
    const inTime = await Promise.race([drained, Bun.sleep(DRAIN_AFTER_EXIT_MS).then(() => false)]);
    if (!inTime) {
      // A grandchild keeps the pipes open: the run is over, so is its group.
      await endProcessGroup({ pid, startTime }, { leaderExited: true });
      await Promise.race([drained, Bun.sleep(KILL_WAIT_MS)]);
      out.cancel();
      err.cancel();
    }
    return { code: child.exitCode, signal: child.signalCode === null ? null : String(child.signalCode) };
  })();
  return { pid, startTime, done, lastOutputAt: () => last };
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  // process.kill(-1) would signal every process of this user; 0 our own group.
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (processGroupMembers(pgid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await Bun.sleep(GROUP_POLL_MS);
  }
}

/**
 * Whether the group led by `identity.pid` is still the one we started. While any member of a
 * group lives the kernel does not hand its id out again, so members of a group whose leader is
 * gone are still ours; a live process with the leader's pid but another start time means the
 * pid was reused and nothing there is ours.
 */
export function ownsGroup(identity: ProcessIdentity): boolean {
  if (identity.pid <= 1) return false;
  const leader = processInfo(identity.pid);
  if (leader) return leader.startTime === identity.startTime;
  return processGroupMembers(identity.pid).length > 0;
}

export interface EndOptions {
  termGraceMs?: number;
  /** Also kill what is left with its working directory inside this directory (Linux)... */
  sweepDir?: string;
  /** ...and this `NAME=value` in its environment (the run's id, which every descendant inherits). */
  sweepMarker?: string;
  /** The leader is known to have exited (its pid may already be reused): check the group only. */
  leaderExited?: boolean;
}

export interface EndReport {
  /** SIGKILL was needed. */
  killed: boolean;
  /** Processes outside the group killed because they worked inside `sweepDir`. */
  swept: number[];
}

/** The kill ladder. Safe to call for a process that already ended. */
export async function endProcessGroup(identity: ProcessIdentity, options: EndOptions = {}): Promise<EndReport> {
  const pgid = identity.pid;
  let killed = false;
  const ours = options.leaderExited
    ? processInfo(pgid) === undefined || isSameProcess(pgid, identity.startTime)
    : ownsGroup(identity);
  if (ours && processGroupMembers(pgid).length > 0) {
    signalGroup(pgid, "SIGTERM");
    // A stopped process handles SIGTERM only once it runs again.
    signalGroup(pgid, "SIGCONT");
    if (!(await groupGone(pgid, options.termGraceMs ?? TERM_GRACE_MS))) {
      killed = true;
      signalGroup(pgid, "SIGKILL");
      await groupGone(pgid, KILL_WAIT_MS);
    }
  }
  const swept: number[] = [];
  if (options.sweepDir !== undefined) {
    for (const pid of processesWithCwdInside(options.sweepDir, options.sweepMarker)) {
      if (pid <= 1 || pid === process.pid) continue;
      try {
        process.kill(pid, "SIGKILL");
        swept.push(pid);
      } catch {
        // Gone meanwhile.
      }
    }
  }
  return { killed, swept };
}
