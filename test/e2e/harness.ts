// Driving the compiled dist/ve in temporary projects. Every daemon a test starts is found and
// killed after the file's tests, whatever happened in them.
import { afterAll, afterEach, beforeAll, setDefaultTimeout } from "bun:test";
import type { Static, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { isRunning, isVeDaemon } from "../helpers/processes.ts";
import { useTempDirs } from "../helpers/temp.ts";

export const VE = resolve(import.meta.dir, "../../dist/ve");

/** A command that outlives this bound has hung: the test fails instead of the suite. */
export const COMMAND_TIMEOUT_MS = 30_000;
/** Per-test bound (bun's default is 5 s; `bunfig.toml`'s `[test] timeout` is ignored). */
export const TEST_TIMEOUT_MS = 30_000;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time of the command in milliseconds. */
  ms: number;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", VE_PROJECT_DIR: undefined, ...extra };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

// Reading other processes (/proc on Linux, ps and lsof elsewhere) lives in one portable helper.
export { type ProcStat, daemonPids, isRunning, isVeDaemon, procStat } from "../helpers/processes.ts";

/** Polls `check` every few ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await Bun.sleep(stepMs);
  }
}

/**
 * Call at the top level of a test file. Returns `project()` (a fresh project directory) and
 * `ve(project, ...args)`; every daemon started in those projects is killed after each test.
 */
export function useProjects(label = "ve-e2e") {
  // bun's default of 5 s per test is too short for a cold start under load; hangs are still
  // bounded, by COMMAND_TIMEOUT_MS per command and this per test.
  setDefaultTimeout(TEST_TIMEOUT_MS);
  beforeAll(() => {
    if (!existsSync(VE)) throw new Error(`${VE} does not exist: build it first (bun run build.ts)`);
  });
  const tempDir = useTempDirs(label);
  const projects: string[] = [];
  const extraPids = new Set<number>();

  const killAll = async () => {
    const pids = new Set(extraPids);
    for (const dir of projects) {
      const pidFile = join(dir, ".ve", "orchestrator.pid");
      if (existsSync(pidFile)) {
        const pid = Number.parseInt(readFileSync(pidFile, "utf8"), 10);
        if (pid > 0) pids.add(pid);
      }
    }
    // Only processes that are ve daemons: a stale pid file may name a pid reused since.
    for (const pid of pids) {
      if (!isVeDaemon(pid)) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await waitFor(() => [...pids].every((pid) => !isRunning(pid)), 5000);
    extraPids.clear();
  };
  afterEach(killAll);
  afterAll(killAll);

  return {
    /** A fresh empty project directory (real path), tracked for cleanup. */
    project(): string {
      const dir = tempDir();
      projects.push(dir);
      return dir;
    },
    /** Track a directory created elsewhere (e.g. a deep path) so its daemon is cleaned up. */
    track(dir: string): string {
      projects.push(dir);
      return dir;
    },
    /** Track a pid to kill after the test (e.g. a daemon found by other means). */
    trackPid(pid: number): void {
      extraPids.add(pid);
    },
    /** Runs `dist/ve args...` with `--project-dir` unless `cwd` is given instead. */
    async ve(project: string | null, args: string[], options: RunOptions = {}): Promise<Run> {
      const argv = project === null ? args : [...args, "--project-dir", project];
      return run([VE, ...argv], options);
    },
  };
}

/** Runs a command with a bounded wall time; a command that hangs is killed and reported. */
export async function run(command: string[], options: RunOptions = {}): Promise<Run> {
  const started = performance.now();
  const child = Bun.spawn(command, {
    cwd: options.cwd ?? process.cwd(),
    env: baseEnv(options.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  if (timedOut) throw new Error(`${command.join(" ")} hung for ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`);
  return { code, stdout, stderr, ms: performance.now() - started };
}

/** Parses stdout as exactly one JSON document (fails the test otherwise). */
export function json<T = unknown>(result: Run): T {
  const text = result.stdout.trim();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${result.stdout}\nstderr: ${result.stderr}`);
  }
}

// --- Helpers added for the e2e suite -----------------------------------------------------

/** Schema-checks a value the CLI printed; the failure names every mismatch. */
export function checked<T extends TSchema>(schema: T, value: unknown, what = "document"): Static<T> {
  if (!Value.Check(schema, value)) {
    const problems = [...Value.Errors(schema, value)].slice(0, 5).map((e) => `${e.path || "/"}: ${e.message}`);
    throw new Error(`${what} does not match its schema:\n  ${problems.join("\n  ")}\n${JSON.stringify(value)}`);
  }
  return value;
}

/** stdout as exactly one JSON document that fits `schema`. */
export function jsonOf<T extends TSchema>(schema: T, result: Run): Static<T> {
  return checked(schema, json(result), `stdout of a command (exit ${result.code})`);
}

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Permission bits of a file (no type bits), e.g. 0o600. */
export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** The files of a project's `.ve/`. */
export function stateFiles(dir: string) {
  const state = join(dir, ".ve");
  return {
    state,
    db: join(state, "orchestrator.db"),
    pid: join(state, "orchestrator.pid"),
    socket: join(state, "orchestrator.sock"),
    log: join(state, "orchestrator.log"),
    gitignore: join(state, ".gitignore"),
  };
}

/** Kills a process we spawned (and, with `group`, its whole process group), ignoring "already gone". */
export function killQuietly(pid: number | undefined, signal: NodeJS.Signals = "SIGKILL", group = false): void {
  if (!pid) return;
  try {
    process.kill(group ? -pid : pid, signal);
  } catch {}
}
