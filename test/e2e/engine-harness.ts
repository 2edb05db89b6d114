// Projects for the engine's end-to-end tests: real git repositories in temporary directories,
// a daemon of the compiled dist/ve, and the scripted agent (test/fixtures/scripted-agent.ts)
// as the `command` backend. After each test every process working inside a test's project is
// killed too: agents run in their own process groups and outlive a killed daemon.
import { afterEach } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { processesWithCwdInside } from "../../src/platform/process.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { type Run, VE, isVeDaemon, json, run, useProjects, waitFor } from "./harness.ts";

export const AGENT = resolve(import.meta.dir, "../fixtures/scripted-agent.ts");

/** Git never reads the machine's or the user's configuration in these tests. */
export const GIT_ENV = {
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
};

export type Step = Record<string, unknown>;
export type Script = Record<string, Record<string, Step[] | Step[][]>>;

export interface UnitJson {
  chunk: string;
  phase: string;
  status: string;
  attention: { kind: string; reason: string; code?: string | null } | null;
  blocked_by: string[];
  worktree: string | null;
}

/** The pid in a project's .ve/orchestrator.pid. */
export function daemonPid(dir: string): number {
  return Number.parseInt(readFileSync(join(dir, ".ve", "orchestrator.pid"), "utf8"), 10);
}

/** SIGKILL to a project's daemon (a crash), returning once the process is gone. */
export async function killDaemon(dir: string): Promise<void> {
  const pid = daemonPid(dir);
  process.kill(pid, "SIGKILL");
  await waitFor(() => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
}

export function git(cwd: string, ...args: string[]): string {
  const result = Bun.spawnSync(["git", ...args], { cwd, env: { ...process.env, ...GIT_ENV } });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString().trim();
}

export function useEngineProjects(label = "ve-engine") {
  const projects = useProjects(label);
  const scratch = useTempDirs(`${label}-scripts`);
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs) for (const pid of processesWithCwdInside(dir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await waitFor(() => dirs.every((dir) => processesWithCwdInside(dir).length === 0), 5000);
  });

  /** `timeoutMs`: the hang guard of this one command, for one that waits on purpose (a backend check). */
  const ve = (dir: string, args: string[], env: Record<string, string> = {}, timeoutMs?: number) =>
    projects.ve(dir, args, { env: { ...GIT_ENV, ...env }, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

  return {
    ...projects,
    ve,
    /** A git repository on `main` with one commit, and its agents' script file (outside it). */
    repo(files: Record<string, string> = { "README.md": "hello\n" }, name?: string): { dir: string; script: string } {
      let dir = projects.project();
      if (name) {
        dir = join(dir, name);
        mkdirSync(dir);
        projects.track(dir);
      }
      dirs.push(dir);
      git(dir, "init", "-q", "-b", "main");
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(join(dir, path, ".."), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
      git(dir, "add", "-A");
      git(dir, "commit", "-q", "-m", "initial");
      return { dir, script: join(scratch(), "script.json") };
    },
    /** Starts the daemon with the scripted agent as its command backend, and `config` set. */
    async start(dir: string, scriptPath: string, script: Script, config: Record<string, string> = {}): Promise<void> {
      writeFileSync(scriptPath, JSON.stringify(script));
      const started = await ve(dir, ["orch", "start"]);
      if (started.code !== 0) throw new Error(`start failed: ${started.stderr}`);
      const settings: Record<string, string> = {
        "backends.command.path": process.execPath,
        "backends.command.args": JSON.stringify([AGENT, scriptPath]),
        silence_timeout_s: "60",
        backoff_base_s: "1",
        backoff_max_s: "2",
        ...config,
      };
      for (const [key, value] of Object.entries(settings)) {
        const set = await ve(dir, ["orch", "config", key, value]);
        if (set.code !== 0) throw new Error(`config ${key} failed: ${set.stderr}`);
      }
    },
    async units(dir: string): Promise<UnitJson[]> {
      return json<{ work_units: UnitJson[] }>(await ve(dir, ["orch", "ps", "--json"])).work_units;
    },
    /** Polls until every unit satisfies `done` (or the bound passes); returns the last list. */
    async waitUnits(dir: string, done: (units: UnitJson[]) => boolean, timeoutMs = 60_000): Promise<UnitJson[]> {
      let last: UnitJson[] = [];
      await waitFor(async () => done((last = await this.units(dir))), timeoutMs, 50);
      return last;
    },
  };
}

export function expectOk(result: Run): Run {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

/** A git repository at `dir` (created) with one commit on main. */
export function initRepo(dir: string): void {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  writeFileSync(join(dir, "README.md"), "hello\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "initial");
}

/**
 * Ends the daemon of the project at `dir` (stop, then SIGKILL if it is still there) and every
 * process still working inside it: for daemons that live longer than one test.
 */
export async function endProject(dir: string, env: Record<string, string | undefined>): Promise<void> {
  await run([VE, "orch", "stop", "--project-dir", dir], { env });
  const pidFile = join(dir, ".ve", "orchestrator.pid");
  if (existsSync(pidFile)) {
    const pid = Number.parseInt(readFileSync(pidFile, "utf8"), 10);
    if (pid > 0 && isVeDaemon(pid)) process.kill(pid, "SIGKILL");
  }
  for (const pid of processesWithCwdInside(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  await waitFor(() => processesWithCwdInside(dir).length === 0, 5000);
}

/** A daemon of dist/ve that lives for a whole describe (the real agent CLIs take seconds to start). */
export interface AgentDaemon<R> {
  dir: string;
  ve(args: string[]): ReturnType<typeof run>;
  /** Stops the daemon, kills whatever still works inside the repository, then runs `after`. */
  close(): Promise<void>;
  units(): Promise<UnitJson[]>;
  runs(chunk?: string): Promise<R[]>;
  /** Waits (up to `settleMs`) until `done` holds for the unit and its runs; throws with the last state. */
  unit(chunk: string, done: (u: UnitJson, runs: R[]) => boolean): Promise<{ unit: UnitJson; runs: R[] }>;
}

/** Starts a daemon for `dir` with `env`, applies `settings` with `ve orch config`. */
export async function startAgentDaemon<R>(
  dir: string,
  env: Record<string, string | undefined>,
  settings: Record<string, string>,
  settleMs: number,
  after: () => Promise<void>,
): Promise<AgentDaemon<R>> {
  const ve = (args: string[]) => run([VE, ...args, "--project-dir", dir], { env });
  expectOk(await ve(["orch", "start"]));
  for (const [key, value] of Object.entries(settings)) expectOk(await ve(["orch", "config", key, value]));
  const units = async () => json<{ work_units: UnitJson[] }>(await ve(["orch", "ps", "--json"])).work_units;
  const runs = async (chunk?: string) => json<{ runs: R[] }>(await ve(["orch", "runs", ...(chunk ? [chunk] : []), "--json"])).runs;
  return {
    dir,
    ve,
    units,
    runs,
    async close() {
      await endProject(dir, env);
      await after();
    },
    async unit(chunk, done) {
      let last: { unit: UnitJson; runs: R[] } | undefined;
      const held = await waitFor(
        async () => {
          const unit = (await units()).find((u) => u.chunk === chunk);
          if (!unit) return false;
          last = { unit, runs: await runs(chunk) };
          return done(last.unit, last.runs);
        },
        settleMs,
        200,
      );
      if (!held) throw new Error(`unit ${chunk} did not get there: ${JSON.stringify(last, null, 2)}`);
      return last as { unit: UnitJson; runs: R[] };
    },
  };
}
