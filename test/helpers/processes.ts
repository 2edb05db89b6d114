// What the tests need to know about other processes, on every platform ve ships for: Linux
// answers from /proc, macOS (and any system without /proc) from `ps` and `lsof`, which ship
// with it. VE_TEST_PROCESS_SOURCE=ps makes Linux take the macOS path too, so that path runs
// here (test/helpers/processes.test.ts compares the two).
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

export type ProcessSource = "proc" | "ps";

export const PROCESS_SOURCE: ProcessSource =
  process.env.VE_TEST_PROCESS_SOURCE === "ps" || process.platform !== "linux" ? "ps" : "proc";

function output(command: string[]): string | undefined {
  const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "ignore" });
  const text = result.stdout.toString();
  return result.exitCode === 0 && text.trim() !== "" ? text : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A process of ours that is still there (zombies count as gone). On Linux a multi-threaded
 * process (every Bun daemon) shows its main thread as a zombie while the other threads are still
 * exiting and still hold its files, its socket and its lock: it is gone only once that zombie is
 * its last thread.
 */
export function isRunning(pid: number, source = PROCESS_SOURCE): boolean {
  if (!alive(pid)) return false;
  if (source === "ps") {
    const state = output(["ps", "-o", "stat=", "-p", String(pid)]);
    return state !== undefined && !state.trim().startsWith("Z");
  }
  try {
    if (!/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"))) return true;
    return readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return alive(pid);
  }
}

/**
 * The arguments `pid` was started with. From `ps` they come joined by spaces, so an argument
 * that holds a space reads as two: the tests only look for "__daemon" and temporary paths.
 */
export function commandLine(pid: number, source = PROCESS_SOURCE): string[] | undefined {
  if (source === "ps") return output(["ps", "-o", "command=", "-p", String(pid)])?.trim().split(/\s+/);
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.at(-1) === "" ? argv.slice(0, -1) : argv;
  } catch {
    return undefined;
  }
}

export function isVeDaemon(pid: number, source = PROCESS_SOURCE): boolean {
  return commandLine(pid, source)?.includes("__daemon") ?? false;
}

export interface ProcStat {
  pid: number;
  /** One-letter state (R, S, Z, ...). */
  state: string;
  ppid: number;
  pgrp: number;
  /** The session id. */
  session: number;
  /** The controlling terminal: 0 when there is none (from `ps`: 1 for any terminal). */
  ttyNr: number;
}

/** State, parent, process group, session and terminal of `pid`. */
export function procStat(pid: number, source = PROCESS_SOURCE): ProcStat {
  if (source === "ps") {
    const line = output(["ps", "-o", "stat=,ppid=,pgid=,sess=,tty=", "-p", String(pid)]);
    if (line === undefined) throw new Error(`ps knows no process ${pid}`);
    const [state = "?", ppid, pgrp, session, tty = "?"] = line.trim().split(/\s+/);
    return {
      pid,
      state: state.charAt(0),
      ppid: Number(ppid),
      pgrp: Number(pgrp),
      session: Number(session),
      ttyNr: /^\?+$/.test(tty) ? 0 : 1,
    };
  }
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name may hold spaces and parens: the fields start after the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    pid,
    state: rest[0] ?? "?",
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    session: Number(rest[3]),
    ttyNr: Number(rest[4]),
  };
}

/** Live (non-zombie) ve daemon processes whose command line names `dir`. */
export function daemonPids(dir: string, source = PROCESS_SOURCE): number[] {
  const found: number[] = [];
  if (source === "ps") {
    // One listing of every process: asking ps once per pid takes seconds on a busy machine.
    for (const line of (output(["ps", "-A", "-o", "pid=,stat=,command="]) ?? "").split("\n")) {
      const [pid = "", state = "", ...argv] = line.trim().split(/\s+/);
      if (/^\d+$/.test(pid) && !state.startsWith("Z") && argv.includes("__daemon") && argv.includes(dir)) found.push(Number(pid));
    }
    return found.sort((a, b) => a - b);
  }
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = commandLine(Number(entry), source);
    if (argv?.includes("__daemon") && argv.includes(dir) && isRunning(Number(entry), source)) found.push(Number(entry));
  }
  return found.sort((a, b) => a - b);
}

/** The `n` (name) field of lsof's first file of kind `fd` (cwd, txt) for `pid`. */
function lsofName(pid: number, fd: string): string | undefined {
  const text = output(["lsof", "-a", "-p", String(pid), "-d", fd, "-Fn"]);
  return text
    ?.split("\n")
    .find((line) => line.startsWith("n"))
    ?.slice(1);
}

/** The working directory of `pid`. */
export function cwdOf(pid: number, source = PROCESS_SOURCE): string | undefined {
  if (source === "ps") return lsofName(pid, "cwd");
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** The executable file `pid` runs. */
export function executableOf(pid: number, source = PROCESS_SOURCE): string | undefined {
  if (source === "ps") return lsofName(pid, "txt");
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/**
 * The umask of `pid` as four octal digits ("0077"). Linux only by design: /proc/<pid>/status is
 * the one place a kernel tells another process's umask; undefined elsewhere.
 */
export function umaskOf(pid: number, source = PROCESS_SOURCE): string | undefined {
  if (source === "ps") return undefined;
  try {
    return /^Umask:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  } catch {
    return undefined;
  }
}

function procListeners(file: string, port: number, decode: (hex: string) => string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[3] === "0A" && Number.parseInt((cols[1] ?? "").split(":")[1] ?? "", 16) === port)
    .map((cols) => decode((cols[1] ?? "").split(":")[0] ?? ""));
}

function ipv4FromProc(hex: string): string {
  // /proc/net/tcp writes the address as one little-endian 32-bit number.
  return [6, 4, 2, 0].map((at) => Number.parseInt(hex.slice(at, at + 2), 16)).join(".");
}

/** The local addresses listening on TCP `port` ("127.0.0.1", "::", ...), from any process. */
export function tcpListenAddresses(port: number, source = PROCESS_SOURCE): string[] {
  if (source === "ps") {
    const text = output(["lsof", "-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-Fn"]) ?? "";
    return text
      .split("\n")
      .filter((line) => line.startsWith("n"))
      .map((line) => line.slice(1).replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1"))
      .map((address) => (address === "*" ? "0.0.0.0 or ::" : address))
      .sort();
  }
  const v4 = procListeners("/proc/net/tcp", port, ipv4FromProc);
  const v6 = procListeners("/proc/net/tcp6", port, (hex) => (/^0+$/.test(hex) ? "::" : `ipv6:${hex}`));
  return [...v4, ...v6].sort();
}

/**
 * Whether util-linux `script` can put a command on a pseudo-terminal (`script -qfec CMD
 * /dev/null`). macOS's BSD `script` takes other flags, so there those tests skip; the reason is
 * printed once per file so a skipped run never looks like a passed one.
 */
export function hasUtilLinuxScript(what: string): boolean {
  const reason =
    process.platform !== "linux"
      ? "they drive a pseudo-terminal through util-linux `script -qfec` (Linux only)"
      : Bun.which("script") === null
        ? "`script` (util-linux) is not installed"
        : undefined;
  if (reason !== undefined) console.log(`${what} skipped: ${reason}`);
  return reason === undefined;
}

/**
 * `shellCommand` on a pseudo-terminal: the argv for util-linux `script`, and the environment to
 * add. script runs `$SHELL -c`, and shells differ in what a Ctrl-C typed on the terminal does to
 * a shell waiting on a command (dash dies of it at once, exit 130; bash waits for the command),
 * so the shell is /bin/sh whatever the machine's $SHELL is.
 */
export function onPty(shellCommand: string): { argv: string[]; env: { SHELL: string } } {
  return { argv: ["script", "-qfec", shellCommand, "/dev/null"], env: { SHELL: "/bin/sh" } };
}
