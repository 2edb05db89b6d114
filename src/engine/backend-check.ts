// `ve orch backend check NAME`: a one-line prompt run through a backend exactly as the engine
// runs a phase (the same launch(), reader, process group and kill ladder, the daemon's own
// environment and settings), but in a scratch git repository that is removed afterwards, never
// in a unit's worktree. The answer says, step by step, what works and what to do about what
// does not. Also the list of backends with the program each would run.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentEvent, Backend, Launch, RunContext, RunVerdict } from "../agents/backend.ts";
import { agentEnvironment } from "../agents/environment.ts";
import { installHint, readVersion, requireMinVersion, resolveExecutable, upgradeHint } from "../agents/executables.ts";
import { VeError } from "../errors.ts";
import { runGit } from "../git/git.ts";
import type { BackendCheck, BackendInfo, CheckStep } from "../models/index.ts";
import { type ConfigValue, backendConfig, configValue } from "./config.ts";
import { type AgentProcess, endProcessGroup, startProcess } from "./process-group.ts";

/** What the agent is asked: one line, no tools, so any working setup answers it in one turn. */
export const CHECK_PROMPT =
  "This is `ve orch backend check`, a test of your setup: reply with the single word OK and end your turn, without using any tool.\n";
/** The unit name and phase a check's agent sees (VE_CHUNK, VE_PHASE); no unit has this run. */
export const CHECK_CHUNK = "backend-check";
/** Lines of output kept to explain a failure. */
const OUTPUT_LINES = 20;
/** Each line of it is cut to this many characters (a CLI's JSON lines run to kilobytes). */
const OUTPUT_LINE_MAX_CHARS = 1000;
/** The agent's reply kept in the report, in characters. */
const REPLY_MAX_CHARS = 2000;
/** SIGTERM to SIGKILL when the check's bound passes or the daemon stops. */
const CHECK_TERM_GRACE_MS = 1000;

export interface BackendChecksOptions {
  backends: Readonly<Record<string, Backend>>;
  /** The engine's settings now (read on every use, as the engine does). */
  config: () => ReadonlyMap<string, ConfigValue>;
  projectDir: string;
  /** This binary, for the agent's PATH and VE_BIN. */
  veBinary: string;
  /** The environment agents start from: the daemon's own. */
  baseEnv?: Readonly<Record<string, string | undefined>>;
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class BackendChecks {
  /** Checks running now, so a stopping daemon ends their agents too. */
  private readonly running = new Set<{ process?: AgentProcess; scratch: string; marker: string }>();
  private readonly pending = new Set<Promise<BackendCheck>>();
  private stopping = false;

  constructor(private readonly options: BackendChecksOptions) {}

  private backend(name: string): Backend {
    const backend = Object.hasOwn(this.options.backends, name) ? this.options.backends[name] : undefined;
    if (!backend) {
      const known = Object.keys(this.options.backends);
      throw new VeError(
        "not_found",
        `There is no backend named '${name}'; the backends are ${known.length > 0 ? known.join(", ") : "(none in this server)"}.`,
        { backend: name, backends: known },
      );
    }
    return backend;
  }

  private environment(runId: string): Record<string, string> {
    return agentEnvironment(
      { projectDir: this.options.projectDir, chunk: CHECK_CHUNK, phase: "IMPLEMENT", runId, runToken: randomHex(32), veBinary: this.options.veBinary },
      this.options.baseEnv ?? process.env,
    );
  }

  /** Every backend with the program it would run now; cheap: no agent starts. */
  async list(): Promise<BackendInfo[]> {
    const config = this.options.config();
    const chosen = configValue<string>(config, "backend");
    const env = this.environment("list");
    return Promise.all(
      Object.values(this.options.backends).map(async (backend): Promise<BackendInfo> => {
        const settings = backendConfig(config, backend.name);
        const info: BackendInfo = {
          name: backend.name,
          default: backend.name === chosen,
          configured_path: settings.path ?? null,
          args: [...settings.args],
          executable: null,
          version: null,
          min_version: backend.minVersion ?? null,
          problem: null,
        };
        try {
          info.executable = await resolveExecutable(backend.name, settings.path, backend.program, env.PATH);
        } catch (error) {
          info.problem = messageOf(error);
          return info;
        }
        // A user's own program (the command backend) is never run just to ask its version.
        if (backend.program === undefined) return info;
        info.version = await readVersion(info.executable, env);
        try {
          requireMinVersion(backend.name, info.executable, info.version, backend.minVersion);
        } catch (error) {
          info.problem = messageOf(error);
        }
        return info;
      }),
    );
  }

  /** Runs the one-line prompt through `name`, bounded by `timeoutMs`; the report, whatever happened. */
  async check(name: string, timeoutMs: number): Promise<BackendCheck> {
    const backend = this.backend(name);
    const work = this.run(backend, timeoutMs);
    this.pending.add(work);
    try {
      return await work;
    } finally {
      this.pending.delete(work);
    }
  }

  private async run(backend: Backend, timeoutMs: number): Promise<BackendCheck> {
    const name = backend.name;
    const config = this.options.config();
    const settings = backendConfig(config, name);
    const report: BackendCheck = {
      backend: name,
      ok: false,
      steps: [],
      executable: null,
      version: null,
      min_version: backend.minVersion ?? null,
      outcome: null,
      reason: null,
      exit_code: null,
      reply: null,
      output: [],
      cost_usd: null,
      turns: null,
      input_tokens: null,
      output_tokens: null,
      duration_ms: null,
      scratch_dir: null,
    };
    const step = (s: CheckStep["step"], ok: boolean | null, summary: string, hint: string | null = null) => {
      report.steps.push({ step: s, ok, summary, hint });
    };
    const skipRest = (from: number) => {
      const names = ["executable", "version", "start", "outcome"] as const;
      for (const s of names.slice(from)) step(s, null, "skipped: an earlier step failed");
    };
    const runId = `check-${randomHex(6)}`;
    let base: string | undefined;
    const entry: { process?: AgentProcess; scratch: string; marker: string } = { scratch: "", marker: `VE_RUN_ID=${runId}` };
    this.running.add(entry);
    try {
      let scratch: string;
      let promptFile: string;
      let repoNote: string;
      try {
        base = realpathSync(mkdtempSync(join(tmpdir(), "ve-backend-check-")));
        scratch = join(base, "repo");
        entry.scratch = scratch;
        report.scratch_dir = scratch;
        promptFile = join(base, "prompt.md");
        repoNote = await makeScratchRepo(scratch);
        writeFileSync(promptFile, CHECK_PROMPT, { mode: 0o600 });
      } catch (error) {
        // A full or read-only temporary disk.
        step("executable", null, "not checked");
        step("version", null, "not checked");
        step("start", false, `a scratch directory in ${tmpdir()} could not be made: ${messageOf(error)}`, `free space in ${tmpdir()} or make it writable (or set TMPDIR for the daemon)`);
        skipRest(3);
        return report;
      }
      const context: RunContext = {
        runId,
        chunk: CHECK_CHUNK,
        phase: "IMPLEMENT",
        worktree: scratch,
        projectDir: this.options.projectDir,
        prompt: CHECK_PROMPT,
        promptFile,
        resumeSession: null,
        env: this.environment(runId),
        config: settings,
      };

      // 1. The program, found exactly as a run finds it: by the backend's own launch().
      let launch: Launch;
      try {
        launch = await backend.launch(context);
      } catch (error) {
        const details = (error instanceof VeError ? error.details : undefined) as { program?: unknown; version?: unknown } | undefined;
        if (error instanceof VeError && error.code === "backend_missing") {
          step("executable", false, withoutHint(error.message, installHint(name)), installHint(name));
          skipRest(1);
          return report;
        }
        if (error instanceof VeError && error.code === "backend_too_old") {
          report.executable = typeof details?.program === "string" ? details.program : null;
          report.version = typeof details?.version === "string" ? details.version : null;
          step("executable", true, `found ${report.executable ?? "the program"}`);
          step("version", false, withoutHint(error.message, upgradeHint(name)), upgradeHint(name));
          skipRest(2);
          return report;
        }
        step("executable", null, "not told: the backend failed before it named its program");
        step("version", null, "not read");
        step("start", false, `the backend could not prepare the run: ${messageOf(error)}`, `check \`ve orch config backends.${name}.args\` and the daemon log`);
        skipRest(3);
        return report;
      }
      const program = launch.argv[0] ?? "";
      report.executable = program;
      step("executable", true, `found ${program}`);

      // 2. Its version, held against the backend's minimum as the engine does.
      report.version = launch.version ?? (backend.program !== undefined ? await readVersion(program, context.env) : null);
      try {
        requireMinVersion(name, program, report.version, backend.minVersion);
      } catch (error) {
        step("version", false, withoutHint(messageOf(error), upgradeHint(name)), upgradeHint(name));
        skipRest(2);
        return report;
      }
      if (backend.program === undefined && report.version === null) step("version", null, `the ${name} backend runs your own program and reads no version`);
      else if (report.version === null) step("version", null, `could not be read (\`${program} --version\` said none)${backend.minVersion ? `; the minimum ${backend.minVersion} is not checked` : ""}`);
      else step("version", true, backend.minVersion ? `${report.version} (needs ${backend.minVersion} or newer)` : report.version);

      // 3. The run, in its own process group as the engine starts it.
      const reader = backend.reader(context);
      const output: string[] = [];
      const texts: string[] = [];
      const started = Date.now();
      let proc: AgentProcess;
      try {
        proc = startProcess({
          argv: launch.argv,
          cwd: scratch,
          env: launch.env,
          stdin: launch.stdin,
          onLine: (stream, line) => {
            const shown = line.length > OUTPUT_LINE_MAX_CHARS ? `${line.slice(0, OUTPUT_LINE_MAX_CHARS - 1)}…` : line;
            output.push(stream === "stderr" ? `stderr: ${shown}` : shown);
            if (output.length > OUTPUT_LINES) output.shift();
            let events: AgentEvent[] = [];
            try {
              events = reader.line(stream, line);
            } catch {
              // A reader that chokes on a line is the backend's bug; the verdict will tell.
            }
            for (const event of events) if (event.type === "text" && event.text.trim() !== "") texts.push(event.text);
          },
        });
      } catch (error) {
        step("start", false, `${program} could not be started: ${messageOf(error)}`, installHint(name));
        skipRest(3);
        return report;
      }
      entry.process = proc;
      // The daemon began to stop between the launch and the spawn: this agent goes too.
      if (this.stopping) void endProcessGroup(proc, { termGraceMs: CHECK_TERM_GRACE_MS, sweepDir: entry.scratch, sweepMarker: entry.marker });
      step("start", true, `started ${program} (pid ${proc.pid}) in the scratch git repository ${scratch}${repoNote}, removed afterwards`);

      // 4. The outcome, from the backend's reader, never the exit code alone.
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        void endProcessGroup(proc, { termGraceMs: CHECK_TERM_GRACE_MS, sweepDir: scratch, sweepMarker: entry.marker });
      }, timeoutMs);
      const exit = await proc.done;
      clearTimeout(timer);
      report.duration_ms = Date.now() - started;
      report.exit_code = exit.code;
      const verdict: RunVerdict = timedOut
        ? { outcome: "timeout", reason: `it did not finish within ${Math.round(timeoutMs / 1000)} s` }
        : reader.finish(exit.code);
      report.outcome = verdict.outcome;
      report.reason = verdict.reason;
      report.cost_usd = verdict.cost_usd ?? null;
      report.turns = verdict.turns ?? null;
      report.input_tokens = verdict.input_tokens ?? null;
      report.output_tokens = verdict.output_tokens ?? null;
      report.output = output;
      const reply = texts.join("\n");
      report.reply = reply === "" ? null : reply.length > REPLY_MAX_CHARS ? `${reply.slice(0, REPLY_MAX_CHARS - 1)}…` : reply;
      report.ok = verdict.outcome === "completed";
      step("outcome", report.ok, `${verdict.outcome}: ${verdict.reason}`, report.ok ? null : outcomeHint(name, verdict, timeoutMs));
      return report;
    } finally {
      if (entry.process) await endProcessGroup(entry.process, { termGraceMs: CHECK_TERM_GRACE_MS, sweepDir: entry.scratch, sweepMarker: entry.marker });
      this.running.delete(entry);
      try {
        if (base !== undefined) rmSync(base, { recursive: true, force: true });
      } catch (error) {
        report.scratch_dir = `${report.scratch_dir} (not removed: ${messageOf(error)})`;
      }
    }
  }

  /** Ends the agents of checks still running (the daemon stops) and waits for their scratch directories to go. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.running].map((entry) =>
        entry.process ? endProcessGroup(entry.process, { termGraceMs: CHECK_TERM_GRACE_MS, sweepDir: entry.scratch, sweepMarker: entry.marker }) : undefined,
      ),
    );
    await Promise.allSettled([...this.pending]);
  }
}

/** The error's sentence without the hint it ends with: the step carries the hint apart. */
function withoutHint(message: string, hint: string): string {
  return message.endsWith(`; ${hint}.`) ? `${message.slice(0, -(hint.length + 3))}.` : message;
}

function outcomeHint(name: string, verdict: RunVerdict, timeoutMs: number): string {
  switch (verdict.outcome) {
    case "timeout":
      return `the agent may wait on its model or on input; look at its output below, or allow more time with \`--timeout ${Math.round((timeoutMs * 2) / 1000)}\``;
    case "limit":
      return `the account's usage limit is reached${verdict.reset_at ? ` until ${verdict.reset_at}` : ""}; check again after it resets`;
    case "question":
      return "the agent asked a question instead of answering; the backend runs, but check its settings and the prompt it gets";
    default:
      return `look at its output below; check its credentials and settings, and \`ve orch config backends.${name}.args\``;
  }
}

/** A git repository with one empty commit, as a unit's worktree is; " (plain directory: ...)" when git fails. */
async function makeScratchRepo(dir: string): Promise<string> {
  const { mkdirSync } = await import("node:fs");
  mkdirSync(dir, { mode: 0o700 });
  const identity = ["-c", "user.name=ve backend check", "-c", "user.email=ve@localhost", "-c", "commit.gpgsign=false"];
  try {
    const init = await runGit(["init", "-q", "-b", "main"], { cwd: dir, timeoutMs: 10_000 });
    if (init.code !== 0) return ` (a plain directory: git init failed: ${init.stderr.trim()})`;
    const commit = await runGit([...identity, "commit", "-q", "--allow-empty", "-m", "ve backend check"], { cwd: dir, timeoutMs: 10_000 });
    if (commit.code !== 0) return ` (with no commit: ${commit.stderr.trim()})`;
    return "";
  } catch (error) {
    return ` (a plain directory: ${messageOf(error)})`;
  }
}
