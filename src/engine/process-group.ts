// An agent process in its own process group, its output as lines, and the ladder that ends it:
// SIGTERM to the group and (Linux) to every process carrying the run's marker in its
// environment, a bounded wait, then SIGKILL to all of them. A process is only ever signalled when the
// kernel confirms it is the one we started (pid and start time), and never a pid or group <= 1.
import {
  type ProcessInfo,
  isSameProcess,
  processGroupMembers,
  processInfo,
  processesWithCwdInside,
  processesWithEnvironmentEntry,
} from "../platform/process.ts";

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
  /** Without `sweepMarker`: also kill what is left with its working directory inside this directory (Linux). */
  sweepDir?: string;
  /**
   * And every process, wherever it works, whose environment holds this `NAME=value` (the run's
   * id, which every descendant inherits: also one that left the group and the session). Linux.
   */
  sweepMarker?: string;
  /** The leader is known to have exited (its pid may already be reused): check the group only. */
  leaderExited?: boolean;
}

export interface EndReport {
  /** SIGKILL was needed. */
  killed: boolean;
  /** Processes outside the group that were signalled because the sweep found them. */
  swept: number[];
  /** Still alive when the ladder gave up (a process in uninterruptible sleep, or not ours to signal). */
  left: number[];
}

/**
 * VE_TERM_GRACE_MS, in place of every SIGTERM-to-SIGKILL grace of the daemon: for tests, which
 * wait for the processes to be gone rather than for seconds of grace.
 */
export function termGraceMs(defaultMs: number): number {
  const raw = process.env.VE_TERM_GRACE_MS;
  const fromEnv = raw === undefined || raw.trim() === "" ? Number.NaN : Number(raw);
  return Number.isFinite(fromEnv) && fromEnv >= 0 ? fromEnv : defaultMs;
}

/** Reading every process's environment costs more than its group: the sweep looks less often. */
const SWEEP_POLL_MS = 50;

/**
 * The kill ladder, for the group and whatever the sweep finds outside it together: SIGTERM (and
 * SIGCONT), a bounded wait, then SIGKILL until nothing is left (a process forking meanwhile is
 * found again and killed too). Safe to call for a process that already ended, and for a pid
 * of 0 (no group: the sweep only).
 */
export async function endProcessGroup(identity: ProcessIdentity, options: EndOptions = {}): Promise<EndReport> {
  const pgid = identity.pid;
  const graceMs = termGraceMs(options.termGraceMs ?? TERM_GRACE_MS);
  // Group 0 would be this process's own group in kill(2), and a pgid of 0 in /proc is a kernel thread's.
  const ours =
    pgid > 1 &&
    (options.leaderExited ? processInfo(pgid) === undefined || isSameProcess(pgid, identity.startTime) : ownsGroup(identity));
  const sweeping = options.sweepMarker !== undefined || options.sweepDir !== undefined;
  const groupLeft = () => (ours ? processGroupMembers(pgid) : []);
  const strays = (): ProcessInfo[] => {
    if (options.sweepMarker !== undefined) return processesWithEnvironmentEntry(options.sweepMarker).filter((p) => !(ours && p.pgid === pgid));
    if (options.sweepDir === undefined) return [];
    return processesWithCwdInside(options.sweepDir)
      .map((pid) => processInfo(pid))
      .filter((p): p is ProcessInfo => p !== undefined && !(ours && p.pgid === pgid));
  };
  const swept = new Set<number>();
  const signalled = new Set<string>();
  const signalStrays = (list: readonly ProcessInfo[], signal: NodeJS.Signals, once: boolean) => {
    for (const p of list) {
      const key = `${p.pid}:${p.startTime}`;
      if (once && signalled.has(key)) continue;
      // The pid is signalled only while it is still the process the sweep found.
      if (p.pid <= 1 || p.pid === process.pid || !isSameProcess(p.pid, p.startTime)) continue;
      try {
        process.kill(p.pid, signal);
        if (signal === "SIGTERM") process.kill(p.pid, "SIGCONT");
        signalled.add(key);
        swept.add(p.pid);
      } catch {
        // Gone meanwhile, or not ours to signal (EPERM): reported in `left` if it stays.
      }
    }
  };
  let found = strays();
  if (groupLeft().length === 0 && found.length === 0) return { killed: false, swept: [], left: [] };
  const pollMs = sweeping ? SWEEP_POLL_MS : GROUP_POLL_MS;
  if (ours) {
    signalGroup(pgid, "SIGTERM");
    // A stopped process handles SIGTERM only once it runs again.
    signalGroup(pgid, "SIGCONT");
  }
  signalStrays(found, "SIGTERM", true);
  const termDeadline = Date.now() + graceMs;
  for (;;) {
    await Bun.sleep(Math.min(pollMs, Math.max(0, termDeadline - Date.now())));
    found = strays();
    if (groupLeft().length === 0 && found.length === 0) return { killed: false, swept: [...swept], left: [] };
    if (Date.now() >= termDeadline) break;
    signalStrays(found, "SIGTERM", true);
  }
  const killDeadline = Date.now() + KILL_WAIT_MS;
  for (;;) {
    if (ours) signalGroup(pgid, "SIGKILL");
    signalStrays(found, "SIGKILL", false);
    await Bun.sleep(GROUP_POLL_MS);
    found = strays();
    const group = groupLeft();
    if ((group.length === 0 && found.length === 0) || Date.now() >= killDeadline) {
      return { killed: true, swept: [...swept], left: [...group, ...found.map((p) => p.pid)] };
    }
  }
}

/**
 * Arms a run's two limits: `end` is called with why once it runs longer than `wallMs`, or
 * prints nothing for `silenceMs`. Returns the function that disarms them.
 */
export function watchRunLimits(proc: AgentProcess, limits: { wallMs: number; wallSetting: string; silenceMs: number }, end: (why: string) => void): () => void {
  const { wallMs, wallSetting, silenceMs } = limits;
  const wall = setTimeout(() => end(`it ran longer than ${wallSetting} (${wallMs / 1000} s)`), wallMs);
  let silence: ReturnType<typeof setTimeout>;
  const arm = (delay: number) => {
    silence = setTimeout(() => {
      const quiet = Date.now() - proc.lastOutputAt();
      if (quiet >= silenceMs) end(`it printed nothing for silence_timeout_s (${silenceMs / 1000} s)`);
      else arm(silenceMs - quiet);
    }, delay);
  };
  arm(silenceMs);
  return () => {
    clearTimeout(wall);
    clearTimeout(silence);
  };
}
