// The scheduler: a daemon service that runs an agent for each READY scheduled unit, up to
// `max_agents` at once, moves the unit on from the agent's verdict, and lands finished units
// one at a time. It wakes on every committed change (the store's change feed) and on its own
// backoff timer; it never polls the database in a loop.
import { ownRunCost } from "./cost.ts";
import { existsSync } from "node:fs";
import { PHASES, type Phase, claimOrder } from "../domain.ts";
import type { Backend, RunVerdict } from "../agents/backend.ts";
import { agentEnvironment } from "../agents/environment.ts";
import { requireMinVersion } from "../agents/executables.ts";
import { VeError, isStorageFull } from "../errors.ts";
import { commitIdentity, filesWithConflictMarkers, landBranch } from "../git/land.ts";
import { resolveCommit } from "../git/git.ts";
import { landingDeletions } from "../git/guards.ts";
import { landedMergeOf, landingMessage } from "../git/landed.ts";
import { commonGitDir } from "../git/repo-settings.ts";
import { type GitOperation, deleteMergedBranch, listWorktrees } from "../git/worktrees.ts";
import type { WorkUnitChange } from "../models/index.ts";
import type { ProjectPaths } from "../project/paths.ts";
import type { EngineRow, EngineStore, NextStep, PhaseAnswer, RunResult, RunRow } from "../state/engine.ts";
import { type ConfigValue, backendConfig, configValue } from "./config.ts";
import { readAtRef } from "./documents.ts";
import { type GuardLimits, type GuardRefusal, GuardRefused, deletionVerdict, shownPaths } from "./guards.ts";
import { type AgentProcess, endProcessGroup, startProcess, watchRunLimits } from "./process-group.ts";
import { DEFAULT_PHASE_PROMPTS, type RunReason, assemblePrompt, chunkDocPath, promptOverridePath } from "./prompts.ts";
import { decideRetry, type RetryKind } from "./retry.ts";
import { RunLog, runLogPath } from "./run-log.ts";
import { clearStaleGitLocks } from "./stale-locks.ts";
import { hashRunToken, newRunToken } from "./run-token.ts";
import { decideVerdict } from "./signals.ts";
import { reconcileWorktrees } from "./reconcile.ts";
import { SETTINGS_CHANGED_CODE, SettingsChanged, TrustedSettings, retriedAfterSettingsChange } from "./trusted-settings.ts";
import { type BaseRewind, baseRewoundReason, findBaseRewind, runsSince } from "./base-tip.ts";
import { gateLanding, recoverGates } from "./gate/landing.ts";
import { GateStore } from "../state/gates.ts";
import type { VerifyRun } from "./gate/run.ts";
import { commitWorktree, ensureUnitWorktree, projectPrefixOf, removeUnitWorktree, unitBranch, unitWorktreePath, veOwnPathsOnBranch } from "./worktrees.ts";

/** SIGTERM to SIGKILL when a time or silence limit ends a run. */
export const LIMIT_TERM_GRACE_MS = 800;
/** SIGTERM to SIGKILL when the daemon stops or a person forces a change. */
export const STOP_TERM_GRACE_MS = 3000;
/** How often conflicts go back to the agent before a person must resolve them. */
export const MAX_CONFLICT_RUNS = 2;
/** How often the closing of a run the database refused (a full disk) is tried again. */
export const CLOSE_RETRY_MS = 1000;
/** The longest a backoff timer is set for; longer waits are re-armed (setTimeout caps at ~24 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface DrainOutcome {
  /** Runs that finished on their own while the engine drained. */
  finished: number;
  /** Runs still running when the bound passed: the stop that follows interrupts them. */
  interrupted: number;
}

export interface EngineOptions {
  paths: ProjectPaths;
  state: EngineStore;
  log: Reporter;
  backends: Readonly<Record<string, Backend>>;
  /** This binary, for the agents' PATH and VE_BIN. */
  veBinary: string;
}

interface ActiveRun {
  run: RunRow;
  worktree: string;
  process?: AgentProcess;
  /** Set when the run must end without its verdict counting: the daemon stops, or a person forced a change. */
  abandoned?: "stop" | "person";
  /** Set when a limit ended it. */
  limit?: string;
  /** The engine itself is closing the run: the change that follows is its own, not a person's. */
  closing?: boolean;
  /** What the run left was ended (endLeftovers). */
  leftoversEnded?: boolean;
  finished: Promise<void>;
}

function nextPhase(phase: Phase): Phase | undefined {
  return PHASES[PHASES.indexOf(phase) + 1];
}

function newRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const random = Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${stamp}-${random}`;
}

export { hashRunToken as hashToken } from "./run-token.ts";

export class Engine {
  readonly name = "engine";
  private readonly active = new Map<string, ActiveRun>();
  private stopping = false;
  private draining = false;
  private wakeQueued = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private unsubscribe: (() => void) | undefined;
  private landing: Promise<void> = Promise.resolve();
  /**
   * Changes to the repository's own records (worktrees, branches, the base ref) one at a time:
   * git takes repository-wide locks for them, and two at once fail rather than wait.
   */
  private repoQueue: Promise<unknown> = Promise.resolve();
  private readonly landingQueued = new Set<string>();
  /**
   * Runs of this daemon's life whose end found processes left (killed then, or not): swept
   * again at stop, for one that was forking while the ladder ran or could not be ended.
   */
  private readonly leftovers = new Map<string, { run: RunRow; worktree: string }>();
  /** Runs whose closing the database refused (a full disk), by run id: tried again on a timer. */
  private readonly unclosed = new Map<string, { run: RunRow; result: RunResult; next: NextStep }>();
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly repo: string;
  private readonly gates: GateStore;
  /** The landing gate's verify run under way, ended by the stop (its gate runs again at the next start). */
  private gateRun: VerifyRun | undefined;

  /** The repository's shared config and hooks as last trusted: compared before each git step that could run what they name. */
  private readonly settings: TrustedSettings;

  constructor(private readonly options: EngineOptions) {
    this.repo = options.paths.root;
    this.gates = new GateStore(options.state.store);
    this.settings = new TrustedSettings(this.repo, () => this.commonDir());
  }

  /** Before a git step for `chunk`: a person's retry after a settings hold trusts them as they are now. */
  private async requireTrustedSettings(engine: EngineRow): Promise<void> {
    if (retriedAfterSettingsChange(engine.next_reason)) await this.settings.trustNow();
    await this.settings.require();
  }

  private commonDirFound: Promise<string> | undefined;

  /** The repository's common git directory, asked of git once (a failure is asked again). */
  private commonDir(): Promise<string> {
    this.commonDirFound ??= commonGitDir(this.repo).catch((error) => {
      this.commonDirFound = undefined;
      throw error;
    });
    return this.commonDirFound;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.repoQueue.then(work, work);
    this.repoQueue = next.catch(() => {});
    return next;
  }

  private get state(): EngineStore {
    return this.options.state;
  }

  private get log(): Reporter {
    return this.options.log;
  }

  private config(): Map<string, ConfigValue> {
    return this.state.config();
  }

  private guardLimits(): GuardLimits {
    const config = this.config();
    return {
      maxDeletedRatio: configValue<number>(config, "guard.max_deleted_ratio"),
      maxFileMb: configValue<number>(config, "guard.max_file_mb"),
      maxFiles: configValue<number>(config, "guard.max_files"),
    };
  }

  /** The deletion guard of a landing: what merging `branch` into `base` now would delete of it. */
  private async landingDeletionRefusal(base: string, branch: string): Promise<GuardRefusal | null> {
    const [baseHead, tip] = await Promise.all([resolveCommit(`refs/heads/${base}`, this.repo), resolveCommit(`refs/heads/${branch}`, this.repo)]);
    // A missing ref is the landing's to report, in its own words.
    if (baseHead === undefined || tip === undefined) return null;
    const figures = await landingDeletions(this.repo, baseHead, tip);
    return deletionVerdict({ ...figures, base, maxRatio: this.guardLimits().maxDeletedRatio });
  }

  async start(): Promise<void> {
    await this.recover();
    this.unsubscribe = this.state.store.onChange((changes) => this.onChanges(changes));
    this.wake();
  }

  /**
   * Ends every run (the kill ladder), closes it `interrupted` and leaves its unit READY, so the
   * next start resumes its session. `drainFor` first, for running phases to finish.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    const ending = [...this.active.values()].map(async (active) => {
      active.abandoned ??= "stop";
      if (active.process) {
        await endProcessGroup(active.process, { termGraceMs: STOP_TERM_GRACE_MS, ...this.sweep(active) });
      }
      await active.finished;
    });
    await Promise.all(ending);
    await this.gateRun?.end(STOP_TERM_GRACE_MS);
    await Promise.all(
      [...this.leftovers.values()].map(async (left) => {
        const report = await endProcessGroup({ pid: 0, startTime: "" }, { termGraceMs: STOP_TERM_GRACE_MS, ...this.sweep(left) });
        if (report.swept.length > 0) this.log.info(`run ${left.run.id} of '${left.run.chunk}': ended ${report.swept.length} more processes it had left (${report.swept.join(", ")})`);
        if (report.left.length > 0) this.log.warn(`run ${left.run.id} of '${left.run.chunk}': processes ${report.left.join(", ")} it left could not be ended`);
      }),
    );
    await this.landing;
  }

  /**
   * However a run ended (its agent exited, a limit, a person, the stop), what it left goes
   * before its unit moves on: its group and whatever carries its VE_RUN_ID, through the ladder.
   */
  private async endLeftovers(active: ActiveRun, proc: AgentProcess): Promise<void> {
    if (active.leftoversEnded) return;
    active.leftoversEnded = true;
    const { run } = active;
    const report = await endProcessGroup(proc, { termGraceMs: STOP_TERM_GRACE_MS, ...this.sweep(active) });
    if (report.killed || report.swept.length > 0 || report.left.length > 0) {
      this.leftovers.set(run.id, { run, worktree: active.worktree });
      const count = report.swept.length > 0 ? ` (${report.swept.length} outside its group: ${report.swept.join(", ")})` : "";
      this.log.info(`run ${run.id} of '${run.chunk}': ended the processes it left${count}${report.killed ? ", SIGKILL needed" : ""}`);
    }
    if (report.left.length > 0) this.log.warn(`run ${run.id} of '${run.chunk}': processes ${report.left.join(", ")} it left could not be ended; the stop tries again`);
  }

  /**
   * `ve orch stop --drain`: from now on no run starts (landings still run, but what they would
   * start does not); resolves when every running phase has finished and been moved on, or after
   * `boundMs`, or when `overtaken` resolves (a stop asked for meanwhile), with how many finished
   * and how many still run (the stop then interrupts them).
   */
  async drainFor(boundMs: number, overtaken: Promise<unknown> = new Promise(() => {})): Promise<DrainOutcome> {
    this.draining = true;
    const running = [...this.active.values()];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, boundMs);
    });
    await Promise.race([Promise.all(running.map((a) => a.finished)), bound, overtaken]);
    clearTimeout(timer);
    const stillRunning = running.filter((a) => this.active.get(a.run.chunk) === a).length;
    return { finished: running.length - stillRunning, interrupted: stillRunning };
  }

  private sweep(active: { run: RunRow; worktree: string }) {
    return { sweepDir: active.worktree, sweepMarker: `VE_RUN_ID=${active.run.id}` };
  }

  private onChanges(changes: readonly WorkUnitChange[]): void {
    for (const change of changes) {
      const active = this.active.get(change.chunk);
      // A person forced a change (or deleted the unit) while its agent ran: the store has
      // closed the run; the agent must go, and its verdict no longer counts.
      if (active && !active.abandoned && !active.closing && (change.kind === "deleted" || change.new_status !== "RUNNING")) {
        active.abandoned = "person";
        this.log.info(`run ${active.run.id} of '${change.chunk}' ends: ${change.reason}`);
        if (active.process) void endProcessGroup(active.process, { termGraceMs: STOP_TERM_GRACE_MS, ...this.sweep(active) });
      }
    }
    this.wake();
  }

  /** Coalesces every wake-up of one tick into one look at the units. */
  wake(): void {
    if (this.wakeQueued || this.stopping) return;
    this.wakeQueued = true;
    queueMicrotask(() => {
      this.wakeQueued = false;
      try {
        this.pump();
      } catch (error) {
        this.log.error(`the scheduler failed to look at the units: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    });
  }

  private pump(): void {
    if (this.stopping) return;
    const config = this.config();
    const now = Date.now();
    const units = this.state.unitsInFlight();
    let nextWake = Number.POSITIVE_INFINITY;
    const eligible = new Map<string, { engine: EngineRow; updated_at: string }>();
    for (const { unit, engine } of units) {
      if (unit.status !== "READY") continue;
      if (engine.stage === "landing") {
        this.enqueueLanding(unit.chunk);
        continue;
      }
      const retryAt = engine.retry_at ? Date.parse(engine.retry_at) : 0;
      if (retryAt > now) {
        nextWake = Math.min(nextWake, retryAt);
        continue;
      }
      eligible.set(unit.chunk, { engine, updated_at: unit.updated_at });
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (Number.isFinite(nextWake)) this.timer = setTimeout(() => this.wake(), Math.min(MAX_TIMER_MS, Math.max(0, nextWake - now)));
    if (this.draining) return;
    const slots = configValue<number>(config, "max_agents") - this.active.size;
    if (slots <= 0 || eligible.size === 0) return;
    // A unit whose last blockers are landing is READY in a moment: it competes for the slots
    // now, so a unit that lands does not hand its slot to an older one that releases less.
    const landing = new Set(units.filter(({ unit, engine }) => unit.status === "READY" && engine.stage === "landing").map(({ unit }) => unit.chunk));
    const releasedSoon = (unit: (typeof units)[number]["unit"]) =>
      unit.status === "BLOCKED" && unit.blocked_by.length > 0 && unit.blocked_by.every((b) => landing.has(b));
    const order = claimOrder(
      units.map(({ unit }) => ({
        chunk: unit.chunk,
        status: eligible.has(unit.chunk) || releasedSoon(unit) ? "READY" : "BLOCKED",
        blocked_by: unit.blocked_by,
        priority: unit.priority,
        created_at: unit.created_at,
      })),
    );
    let taken = 0;
    for (const candidate of order) {
      if (taken >= slots) break;
      const entry = eligible.get(candidate.chunk);
      // Held for a unit about to be released; its landing wakes the scheduler again.
      if (!entry) {
        taken++;
        continue;
      }
      if (this.active.has(candidate.chunk)) continue;
      if (this.launch(candidate.chunk, entry.engine, entry.updated_at)) taken++;
    }
  }

  /** Claims the unit and starts its run; false when someone changed it meanwhile. */
  private launch(chunk: string, engine: EngineRow, updatedAt: string): boolean {
    const token = newRunToken();
    const purpose = engine.stage === "resolving" ? "resolve" : engine.stage === "fixing" ? "fix" : "phase";
    const run = this.state.claim(chunk, updatedAt, {
      id: newRunId(new Date()),
      purpose,
      backend: engine.backend,
      tokenHash: hashRunToken(token),
      sessionId: null,
    });
    if (!run) return false;
    const active: ActiveRun = { run, worktree: unitWorktreePath(this.options.paths.stateDir, chunk), finished: Promise.resolve() };
    this.active.set(chunk, active);
    let failure: unknown;
    active.finished = this.execute(active, engine, token)
      .catch((error) => {
        failure = error;
        this.log.error(`run ${run.id} of '${chunk}' failed inside ve: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      })
      .finally(() => {
        this.closeLeftOpen(run, failure);
        this.active.delete(chunk);
        this.wake();
      });
    return true;
  }

  private async execute(active: ActiveRun, engine: EngineRow, token: string): Promise<void> {
    const { run } = active;
    const unit = this.state.store.get(run.chunk);
    const base = unit.base_branch ?? "main";
    const config = this.config();
    const backend = this.options.backends[engine.backend];
    const log = new RunLog(runLogPath(this.options.paths.stateDir, run.chunk, run.id));
    try {
      if (!backend) throw new VeError("backend_missing", `There is no backend named '${engine.backend}'; choose one of ${Object.keys(this.options.backends).join(", ")}.`);
      // Making the worktree checks files out: a filter driver planted meanwhile would run.
      await this.requireTrustedSettings(engine);
      // The project's prompt override is read from the base branch while the worktree is made.
      const [worktree, override] = await Promise.all([
        this.exclusive(async () => ensureUnitWorktree(this.repo, this.options.paths.stateDir, await projectPrefixOf(this.repo), run.chunk, base)),
        readAtRef(this.repo, base, promptOverridePath(unit.phase)),
      ]);
      active.worktree = worktree.path;
      // The unit's `worktree` says where its work is, for people and scripts (`work-unit show`).
      if (unit.worktree !== worktree.path || worktree.createdFrom !== null) this.state.worktreeMade(run.chunk, worktree);
      if (worktree.remade !== null) {
        log.note(`the worktree ${worktree.path} was never complete (${worktree.remade}); it was removed and made again from ${worktree.branch}`);
        this.log.warn(`'${run.chunk}': the worktree ${worktree.path} was never complete (${worktree.remade}); removed and made again from ${worktree.branch}`);
      }
      if (worktree.included.length > 0) log.note(`copied into the new worktree from .worktreeinclude: ${worktree.included.join(", ")}`);
      if (worktree.notIncluded.length > 0) {
        const why = "git does not ignore them, so they would be committed with the agent's work; add them to .gitignore to have them copied";
        log.note(`not copied from .worktreeinclude: ${worktree.notIncluded.join(", ")} (${why})`);
        this.log.warn(`'${run.chunk}': not copied from .worktreeinclude: ${worktree.notIncluded.join(", ")} (${why})`);
      }
      const goal = await this.goalText(run.chunk, worktree.path, engine, unit.phase);
      const env = agentEnvironment({
        projectDir: this.options.paths.root,
        chunk: run.chunk,
        phase: unit.phase,
        runId: run.id,
        runToken: token,
        veBinary: this.options.veBinary,
      });
      // A session that cannot be resumed (none yet, its transcript gone, `retry --fresh`, a
      // backend without sessions) starts anew: its prompt carries the phase's answers.
      const resumed = engine.session_id !== null && backend.canResume !== undefined && (await backend.canResume(engine.session_id, env));
      const answers = this.state.phaseAnswers(run.chunk, unit.phase);
      const reason = this.runReason(engine, base, run.attempt, answers);
      const template = override ?? DEFAULT_PHASE_PROMPTS[unit.phase];
      const prompt = assemblePrompt({
        chunk: run.chunk,
        phase: unit.phase,
        goal,
        worktree: worktree.path,
        branch: worktree.branch,
        reason,
        resumed,
        answers,
        phaseTemplate: template,
        askHow: backend.askHow,
        doneHow: backend.doneHow,
      });
      const promptFile = `${this.options.paths.stateDir}/runs/${run.chunk}/${run.id}.prompt.md`;
      await Bun.write(promptFile, prompt, { mode: 0o600 });
      const context = {
        runId: run.id,
        chunk: run.chunk,
        phase: unit.phase,
        worktree: worktree.path,
        projectDir: this.options.paths.root,
        prompt,
        promptFile,
        resumeSession: engine.session_id,
        answer: reason.kind === "answer" ? { question: reason.question, answer: reason.answer } : null,
        env,
        config: backendConfig(config, backend.name),
      };
      const launch = await backend.launch(context);
      requireMinVersion(backend.name, launch.argv[0] ?? backend.name, launch.version, backend.minVersion);
      const reader = backend.reader(context);
      if (active.abandoned) return;
      const proc = startProcess({
        argv: launch.argv,
        cwd: worktree.path,
        env: launch.env,
        stdin: launch.stdin,
        onLine: (stream, line) => {
          log.raw(stream, line);
          for (const event of reader.line(stream, line)) {
            log.event(event);
            if (event.type === "init" && event.session_id) this.state.recordSession(run.id, event.session_id);
            // A backend-native question (Claude's AskUserQuestion) counts as an ask_operator call.
            if (event.type === "question") this.recordStreamQuestion(run, event.question, event.options);
          }
        },
      });
      active.process = proc;
      this.state.recordProcess(run.id, { pid: proc.pid, processStart: proc.startTime, sessionId: launch.sessionId, version: launch.version });
      // A person may have forced a change between the claim and the spawn.
      if (active.abandoned) void endProcessGroup(proc, { termGraceMs: STOP_TERM_GRACE_MS, ...this.sweep(active) });
      const stopLimits = this.watchLimits(active, proc, config);
      const exit = await proc.done;
      stopLimits();
      await this.endLeftovers(active, proc);
      const verdict: RunVerdict = active.limit ? { outcome: "timeout", reason: active.limit } : reader.finish(exit.code);
      log.event({ type: "result", outcome: verdict.outcome, reason: verdict.reason });
      if (log.lost > 0) this.log.warn(`run ${run.id}: ${log.lost} lines of output could not be written to ${log.path}`);
      await this.conclude(active, engine, verdict, exit.code);
    } catch (error) {
      const message = error instanceof VeError ? error.message : `${error instanceof Error ? error.message : String(error)}`;
      log.note(`the run could not start: ${message}`);
      if (active.abandoned === "person") return;
      active.closing = true;
      if (error instanceof SettingsChanged) {
        this.log.warn(`run ${run.id} of '${run.chunk}' not started: ${message}`);
        this.closeRun(run, { outcome: "failed", reason: "not started: the repository's shared git settings changed", exit_code: null }, settingsChangedStep(run.chunk, error, "before its run started; nothing was run"));
        return;
      }
      if (active.abandoned === "stop") {
        this.closeRun(run, { outcome: "interrupted", reason: "the daemon stopped", exit_code: null }, { status: "READY", reason: "the daemon stopped before the run started" });
        return;
      }
      // A missing or too-old program is fixed by a person, not by retrying: the record says
      // how (the error's own sentence), how to test the fix, and how to go on.
      const program = error instanceof VeError && (error.code === "backend_missing" || error.code === "backend_too_old");
      if (program && error.code === "backend_too_old") {
        const version = (error.details as { version?: unknown } | undefined)?.version;
        if (typeof version === "string") this.state.recordVersion(run.id, version);
      }
      const next = program
        ? ` Then \`ve orch backend check ${engine.backend}\` tests it and \`ve orch retry ${run.chunk}\` runs the unit again.`
        : ` \`ve orch retry ${run.chunk}\` runs it again.`;
      this.closeRun(
        run,
        { outcome: "failed", reason: message, exit_code: null },
        {
          status: "NEEDS_ATTENTION",
          reason: `the run could not start: ${message}`,
          attention: { kind: "error", reason: `${message}${next}` },
        },
      );
    } finally {
      if (active.process) await this.endLeftovers(active, active.process);
      log.close();
    }
  }

  /**
   * Closes the run and moves its unit on. A database that refuses the write (a full disk) must
   * not leave the run open and its unit RUNNING for as long as the daemon lives: the close is
   * kept and tried again every CLOSE_RETRY_MS until the write is taken.
   */
  private closeRun(run: RunRow, result: RunResult, next: NextStep): void {
    try {
      this.state.finishRun(run.id, result, next);
      if (this.unclosed.delete(run.id)) this.log.info(`run ${run.id} of '${run.chunk}' closed once the database took the write`);
    } catch (error) {
      if (!this.unclosed.has(run.id)) {
        this.log.warn(`run ${run.id} of '${run.chunk}' could not be closed: ${error instanceof Error ? error.message : String(error)}; trying again every ${CLOSE_RETRY_MS} ms`);
      }
      this.unclosed.set(run.id, { run, result, next });
      if (this.closeTimer === undefined && !this.stopping) {
        this.closeTimer = setTimeout(() => {
          this.closeTimer = undefined;
          for (const pending of [...this.unclosed.values()]) this.closeRun(pending.run, pending.result, pending.next);
        }, CLOSE_RETRY_MS);
      }
    }
  }

  /** Whatever ended the run's work (an error inside ve included), its run is closed: never left open. */
  private closeLeftOpen(run: RunRow, failure: unknown): void {
    if (this.unclosed.has(run.id)) return;
    let open: boolean;
    try {
      open = this.state.openRun(run.chunk)?.id === run.id;
    } catch {
      open = true;
    }
    if (!open) return;
    const why = failure === undefined ? "ve ended the run without closing it" : `ve failed while running it: ${failure instanceof Error ? failure.message : String(failure)}`;
    this.closeRun(run, { outcome: "failed", reason: why, exit_code: null }, {
      status: "NEEDS_ATTENTION",
      reason: `run ${run.id}: ${firstLine(why)}`,
      attention: { kind: "error", reason: `Run ${run.id}: ${why}. \`ve orch retry ${run.chunk}\` runs it again.`, ...(isStorageFull(failure) ? { code: "storage_full" } : {}) },
    });
  }

  /** Arms the wall-clock and silence limits of a run; returns the function that disarms them. */
  private watchLimits(active: ActiveRun, proc: AgentProcess, config: Map<string, ConfigValue>): () => void {
    const runMs = configValue<number>(config, "run_timeout_s") * 1000;
    const silenceMs = configValue<number>(config, "silence_timeout_s") * 1000;
    const end = (why: string) => {
      if (active.limit || active.abandoned) return;
      active.limit = why;
      this.log.info(`run ${active.run.id} of '${active.run.chunk}': ${why}; ending it`);
      void endProcessGroup(proc, { termGraceMs: LIMIT_TERM_GRACE_MS, ...this.sweep(active) });
    };
    return watchRunLimits(proc, { wallMs: runMs, wallSetting: "run_timeout_s", silenceMs }, end);
  }

  /** The goal for the prompt: GOAL.md in the worktree, else what inject was given (seeded into GOAL.md for GOAL). */
  private async goalText(chunk: string, worktree: string, engine: EngineRow, phase: Phase): Promise<string | null> {
    const file = Bun.file(`${worktree}/${chunkDocPath(chunk, "GOAL.md")}`);
    if (await file.exists()) return await file.text();
    if (engine.goal !== null && phase === "GOAL") await Bun.write(file, `${engine.goal.trim()}\n`);
    return engine.goal;
  }

  /** Why this run happens; `answers` are the operator's answers of the unit's current phase. */
  private runReason(engine: EngineRow, base: string, attempt: number, answers: readonly PhaseAnswer[]): RunReason {
    if (engine.stage === "resolving") {
      return { kind: "conflict", base, files: engine.conflict_files ?? [], attempt: engine.conflict_runs };
    }
    const reason = engine.next_reason;
    if (engine.stage === "fixing" && reason?.kind === "gate") return { ...reason, attempt: engine.gate_runs };
    if (reason?.kind === "interrupted") return { kind: "interrupted" };
    if (reason?.kind === "answer") {
      const { question, answer } = reason;
      // An answer of another phase (a person moved the unit on before it ran) is not this
      // phase's: the run starts the phase as a first run would.
      const ofThisPhase = answers.some((a) => a.run_id === reason.run_id && a.question === question && a.answer === answer);
      return ofThisPhase ? { kind: "answer", question, answer } : { kind: "first" };
    }
    if (reason?.kind === "retry") return { kind: "retry", attempt, error: reason.error };
    if (reason?.kind === "retry_after_attention") return { kind: "retry", attempt, error: reason.reason };
    return { kind: "first" };
  }

  private retryPolicy(config: Map<string, ConfigValue>) {
    const caps: Record<RetryKind, number> = {
      transient: configValue<number>(config, "retries.transient"),
      failed: configValue<number>(config, "retries.failed"),
      timeout: configValue<number>(config, "retries.timeout"),
      limit: configValue<number>(config, "retries.limit"),
    };
    return { caps, baseMs: configValue<number>(config, "backoff_base_s") * 1000, maxMs: configValue<number>(config, "backoff_max_s") * 1000 };
  }

  private recordStreamQuestion(run: RunRow, question: string, options: string[] | undefined): void {
    if (question.trim() === "") return;
    try {
      this.state.recordAgentCall(run.id, { kind: "ask", via: "stream", question, ...(options ? { options } : {}) });
    } catch (error) {
      // The run was closed meanwhile (a person forced a change): its verdict no longer counts.
      this.log.warn(`run ${run.id}: the agent's question could not be recorded: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Closes the run and moves the unit on from its verdict and what its agent told the daemon. */
  private async conclude(active: ActiveRun, engine: EngineRow, backendVerdict: RunVerdict, exitCode: number | null): Promise<void> {
    const { run } = active;
    const stopped = active.abandoned === "stop";
    const verdict = decideVerdict(backendVerdict, this.state.agentCalls(run.id), stopped ? "daemon_stopped" : "ended");
    const result = {
      outcome: verdict.outcome,
      reason: verdict.reason,
      exit_code: exitCode,
      // A session's running total becomes the run's own share of it.
      cost_usd: verdict.session_cost_usd !== undefined && verdict.session_cost_usd !== null
        ? ownRunCost(verdict.session_cost_usd, this.state.run(run.id)?.session_id ?? run.session_id, this.state.runs(run.chunk))
        : (verdict.cost_usd ?? null),
      session_cost_usd: verdict.session_cost_usd ?? null,
      models: verdict.models ?? [],
      billing: verdict.billing ?? null,
      turns: verdict.turns ?? null,
      input_tokens: verdict.input_tokens ?? null,
      output_tokens: verdict.output_tokens ?? null,
    };
    if (active.abandoned === "person") return;
    active.closing = true;
    try {
      await this.settings.require();
    } catch (error) {
      if (!(error instanceof SettingsChanged)) throw error;
      this.log.warn(`run ${run.id} of '${run.chunk}': ${error.message}`);
      this.closeRun(run, result, settingsChangedStep(run.chunk, error, `by the time run ${run.id} ended; nothing of the run was committed`));
      return;
    }
    if (stopped && verdict.outcome !== "question") {
      this.closeRun(run, result, {
        status: "READY",
        reason: "the daemon stopped; the next start resumes this phase",
        engine: { next_reason: { kind: "interrupted" } },
      });
      return;
    }
    this.closeRun(run, result, await this.checkBase(run, await this.nextStep(active, engine, verdict)));
  }

  /**
   * After a run: a base moved backwards since ve last published it holds the unit where a
   * person sees it, with the step's own changes (its commit, its next phase) kept for the retry.
   */
  private async checkBase(run: RunRow, next: NextStep): Promise<NextStep> {
    if (next.status !== "READY") return next;
    const base = this.state.store.get(run.chunk).base_branch ?? "main";
    try {
      const rewind = await findBaseRewind(this.repo, this.state.baseTip(base));
      return rewind ? { ...next, ...this.baseRewoundStep(run.chunk, rewind, false) } : next;
    } catch (error) {
      this.log.warn(`run ${run.id} of '${run.chunk}': could not compare ${base} with the tip ve published: ${error instanceof Error ? error.message : String(error)}`);
      return next;
    }
  }

  private baseRewoundStep(chunk: string, rewind: BaseRewind, landing: boolean): Pick<NextStep, "status" | "reason" | "attention"> {
    const since = this.state.baseTip(rewind.base)?.at ?? new Date(0).toISOString();
    const reason = baseRewoundReason(rewind, runsSince(this.state.runs(), since), chunk, landing);
    this.log.warn(`'${chunk}': ${reason}`);
    const now = rewind.now === null ? "gone" : rewind.now.slice(0, 12);
    return {
      status: "NEEDS_ATTENTION",
      reason: `${rewind.base} was moved backwards from ${rewind.published.slice(0, 12)} to ${now}`,
      attention: { kind: "error", code: "base_rewound", reason },
    };
  }

  private async nextStep(active: ActiveRun, engine: EngineRow, verdict: RunVerdict): Promise<NextStep> {
    const { run } = active;
    if (verdict.outcome === "completed") {
      const message = run.purpose === "resolve" ? `${run.chunk}: resolve conflicts` : run.purpose === "fix" ? `${run.chunk}: fix the red gate` : `${run.chunk}: ${run.phase}`;
      try {
        const guard = { base: this.state.store.get(run.chunk).base_branch ?? "main", limits: this.guardLimits() };
        await commitWorktree(active.worktree, unitBranch(await projectPrefixOf(this.repo), run.chunk), message, await commitIdentity(this.repo), guard);
      } catch (error) {
        if (error instanceof GuardRefused) return guardRefusedStep(run, active.worktree, error);
        const why = error instanceof Error ? error.message : String(error);
        if (isStorageFull(error)) {
          return {
            status: "NEEDS_ATTENTION",
            reason: `the work of ${run.phase} could not be committed: the disk is full`,
            attention: {
              kind: "error",
              code: "storage_full",
              reason: `The work of phase ${run.phase} could not be committed in ${active.worktree}: the disk (or your quota) is full (${firstLine(why)}). Free space on that file system, then \`ve orch retry ${run.chunk}\` runs the phase again; its work stays in the worktree.`,
            },
          };
        }
        return { status: "NEEDS_ATTENTION", reason: `the work of ${run.phase} could not be committed: ${why}`, attention: { kind: "error", reason: `The work of phase ${run.phase} could not be committed in ${active.worktree}: ${why} Then \`ve orch retry ${run.chunk}\` runs the phase again.` } };
      }
      const fresh = { retries: {}, retry_at: null, retry_kind: null, next_reason: null };
      if (run.purpose === "resolve") return { status: "READY", reason: "conflicts resolved; landing again", engine: { ...fresh, stage: "landing" }, phase_done: true };
      if (run.purpose === "fix") return { status: "READY", reason: "red gate fixed by the agent; gating again", engine: { ...fresh, stage: "landing" }, phase_done: true };
      const next = nextPhase(run.phase);
      if (next) return { status: "READY", phase: next, reason: `phase ${run.phase} done (run ${run.id})`, engine: fresh, phase_done: true };
      return { status: "READY", reason: `phase COMPLETE done (run ${run.id}); waiting to land`, engine: { ...fresh, stage: "landing" }, phase_done: true };
    }
    if (verdict.outcome === "question") return questionStep(verdict);
    if (verdict.permission && verdict.permission.length > 0) {
      return {
        status: "NEEDS_ATTENTION",
        reason: `a tool call was refused: ${firstLine(verdict.reason)}`,
        attention: {
          kind: "permission",
          reason: `Run ${run.id}: ${verdict.reason}. Allow it (backends.${engine.backend}.permission_mode or backends.${engine.backend}.args), then \`ve orch retry ${run.chunk}\` resumes it.`,
        },
      };
    }
    const policy = this.retryPolicy(this.config());
    const kindUsed = verdict.outcome === "failed" ? (verdict.transient ? "transient" : "failed") : verdict.outcome;
    const decision = decideRetry(verdict, engine.retries[kindUsed] ?? 0, policy, Date.now());
    if (decision?.retry) {
      const at = new Date(decision.at).toISOString();
      return {
        status: "READY",
        reason: `${verdict.outcome}: ${firstLine(verdict.reason)}; retry ${decision.attempt} of ${policy.caps[decision.kind]} at ${at}`,
        engine: {
          retries: { ...engine.retries, [decision.kind]: decision.attempt },
          retry_at: at,
          retry_kind: decision.kind,
          next_reason: { kind: "retry", error: verdict.reason },
        },
      };
    }
    const kind = verdict.outcome === "limit" ? "limit" : "error";
    const why = decision && !decision.retry ? ` (${decision.why})` : "";
    return {
      status: "NEEDS_ATTENTION",
      reason: `${verdict.outcome}: ${firstLine(verdict.reason)}${why}`,
      attention: { kind, reason: `Run ${run.id} ${verdict.outcome === "timeout" ? "hit a limit" : verdict.outcome}${why}: ${verdict.reason}; \`ve orch retry ${run.chunk}\` runs it again.` },
    };
  }

  // --- landing -------------------------------------------------------------------------------

  /** One merge queue per project: landings run one after another, in the order they became ready. */
  private enqueueLanding(chunk: string): void {
    if (this.landingQueued.has(chunk) || this.stopping) return;
    this.landingQueued.add(chunk);
    this.landing = this.landing
      .then(() => this.land(chunk))
      .catch((error) => {
        this.log.error(`landing '${chunk}' failed inside ve: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        // Its record could not be written (a full disk): the unit is still READY to land, and
        // is looked at again rather than left until something else changes.
        setTimeout(() => this.wake(), CLOSE_RETRY_MS);
      })
      .finally(() => this.landingQueued.delete(chunk));
  }

  private async land(chunk: string): Promise<void> {
    if (this.stopping) return;
    const unit = this.state.store.get(chunk);
    const engine = this.state.engineRow(chunk);
    if (!engine || unit.status !== "READY" || engine.stage !== "landing") return;
    const base = unit.base_branch ?? "main";
    const projectPrefix = await projectPrefixOf(this.repo);
    const branch = unitBranch(projectPrefix, chunk);
    let result: Awaited<ReturnType<typeof landBranch>>;
    try {
      // A landing a crash cut short after its merge was published: the branch is gone, the
      // merge (found by its trailer) is on the base; only the clean-up and DONE are left.
      const landed = (await resolveCommit(`refs/heads/${branch}`, this.repo)) === undefined ? await landedMergeOf(this.repo, base, projectPrefix, chunk, unit.created_at) : undefined;
      if (landed !== undefined) this.log.info(`'${chunk}' was landed on ${base} as ${landed} by a daemon that ended before it was DONE`);
      // The files a resolution run was to resolve: committed with their markers, they merge cleanly.
      const marked = landed !== undefined ? [] : await filesWithConflictMarkers(this.repo, `refs/heads/${branch}`, engine.conflict_files ?? []);
      if (marked.length > 0) {
        this.state.advance(chunk, {
          status: "NEEDS_ATTENTION",
          reason: `${branch} still holds conflict markers in ${marked.join(", ")}`,
          attention: {
            kind: "conflict",
            reason: `${branch} still holds conflict markers in ${marked.join(", ")}; resolve them in ${unitWorktreePath(this.options.paths.stateDir, chunk)} and commit, then \`ve orch retry ${chunk}\`.`,
          },
          engine: { stage: "landing" },
        });
        return;
      }
      // Committed by the agent with git (the engine's own commits leave them out): landed, they
      // would write over the project's live state in the checkout.
      const own = landed !== undefined ? [] : await veOwnPathsOnBranch(this.repo, base, branch);
      if (own.length > 0) {
        const shown = own.slice(0, 10).join(", ") + (own.length > 10 ? `, ... (${own.length} in all)` : "");
        const worktree = unitWorktreePath(this.options.paths.stateDir, chunk);
        this.state.advance(chunk, {
          status: "NEEDS_ATTENTION",
          reason: `${branch} carries ve's own files: ${shown}`,
          attention: {
            kind: "error",
            reason: `${branch} carries ve's own files (${shown}); landing them would write over the project's state in the checkout, so nothing was landed. Take them off the branch (\`git -C '${worktree}' rm -r -q --cached --ignore-unmatch -- ${own.map((p) => `'${p}'`).slice(0, 10).join(" ")}${own.length > 10 ? " ..." : ""} && git -C '${worktree}' commit -m 'drop ve state files'\`), then \`ve orch retry ${chunk}\` lands it.`,
          },
          engine: { stage: "landing" },
        });
        return;
      }
      // merge-tree runs merge drivers, and moving the checkout runs filters.
      if (landed === undefined) {
        try {
          await this.requireTrustedSettings(engine);
        } catch (error) {
          if (!(error instanceof SettingsChanged)) throw error;
          this.log.warn(`landing '${chunk}' held: ${error.message}`);
          this.state.advance(chunk, { ...settingsChangedStep(chunk, error, "before its landing; nothing was landed"), engine: { stage: "landing" } });
          return;
        }
      }
      const rewind = landed !== undefined ? undefined : await findBaseRewind(this.repo, this.state.baseTip(base));
      if (rewind) {
        this.state.advance(chunk, { ...this.baseRewoundStep(chunk, rewind, true), engine: { stage: "landing" } });
        return;
      }
      // Whatever made it (a half-made worktree, an agent's `git rm`), a landing that empties the base needs a person.
      const deletes = landed !== undefined ? null : await this.landingDeletionRefusal(base, branch);
      if (deletes) {
        const worktree = unitWorktreePath(this.options.paths.stateDir, chunk);
        this.state.advance(chunk, {
          status: "NEEDS_ATTENTION",
          reason: `landing ${branch} ${deletes.summary}`,
          attention: {
            kind: "error",
            code: deletes.code,
            reason: `Landing ${branch} on ${base} ${deletes.summary}: ${shownPaths(deletes.paths)}; nothing was landed. If that is a mistake, bring the files back on ${branch} (in ${worktree}) and commit them; if the deletion is meant, \`ve orch config ${deletes.raise}\`. Then \`ve orch retry ${chunk}\` lands it.`,
          },
          engine: { stage: "landing" },
        });
        return;
      }
      const verify = engine.verify ?? configValue<string | null>(this.config(), "verify");
      if (landed === undefined && verify !== null) {
        const gated = await gateLanding(this.gateContext(), { chunk, base, branch, message: landingMessage(projectPrefix, chunk), verify, queuedAt: unit.status_changed_at ?? unit.updated_at }, engine);
        if (gated.step) {
          this.state.advance(chunk, gated.step);
          return;
        }
        if (gated.result === undefined) return;
        result = gated.result;
      } else {
        result = landed !== undefined ? { kind: "already_landed", commit: landed } : await this.exclusive(() => landBranch({ repo: this.repo, base, branch, message: landingMessage(projectPrefix, chunk) }));
      }
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      const full = isStorageFull(error);
      const fix = full ? " The disk (or your quota) is full: free space on that file system." : "";
      this.state.advance(chunk, { status: "NEEDS_ATTENTION", reason: `landing failed: ${full ? "the disk is full" : why}`, attention: { kind: "error", reason: `Landing ${branch} on ${base} failed: ${why}${fix} Once that is fixed, \`ve orch retry ${chunk}\` lands it.`, ...(full ? { code: "storage_full" } : {}) } });
      return;
    }
    if (result.kind === "landed" || result.kind === "already_landed") {
      const path = unitWorktreePath(this.options.paths.stateDir, chunk);
      try {
        const deleted = await this.exclusive(async () => {
          await removeUnitWorktree(this.repo, path);
          return deleteMergedBranch(this.repo, branch, base);
        });
        if (!deleted) this.log.warn(`branch ${branch} holds commits ${base} lacks; kept`);
        if (unit.worktree === path) this.state.store.engineChange(chunk, { worktree: null }, "worktree removed after landing");
      } catch (error) {
        this.log.warn(`cleaning up after landing '${chunk}': ${error instanceof Error ? error.message : String(error)}`);
      }
      this.state.advance(chunk, { status: "DONE", reason: `landed on ${base} as ${result.commit.slice(0, 12)}`, engine: { stage: "phase" }, base_tip: { base, tip: result.commit } });
      this.log.info(`landed '${chunk}' on ${base} as ${result.commit}`);
      return;
    }
    if (result.kind === "dirty") {
      const list = (paths: string[]) => paths.slice(0, 10).join(", ") + (paths.length > 10 ? ", ..." : "");
      const parts: string[] = [];
      if (result.files.length > 0) parts.push(`your uncommitted or untracked changes to ${list(result.files)} touch files this landing writes; \`git -C ${result.checkout} stash -u\`, then \`ve orch retry ${chunk}\` lands it (and \`git stash pop\` brings them back)`);
      if (result.ignored.length > 0) parts.push(`the ignored ${list(result.ignored)} would be overwritten by the file(s) of that name ${branch} commits; move them aside, then \`ve orch retry ${chunk}\``);
      this.state.advance(chunk, {
        status: "NEEDS_ATTENTION",
        reason: `${base} is checked out at ${result.checkout} with work the landing would overwrite`,
        attention: { kind: "merge", reason: `${base} is checked out at ${result.checkout}: ${parts.join("; ")}. Nothing was landed or touched.` },
      });
      return;
    }
    if (result.kind === "busy") {
      const how = BUSY_OPERATION_ENDS[result.operation];
      this.state.advance(chunk, {
        status: "NEEDS_ATTENTION",
        reason: `${base} is in the middle of a ${result.operation} at ${result.checkout}`,
        attention: {
          kind: "merge",
          reason: `${base} is in the middle of a ${result.operation} at ${result.checkout}; finish it (${how}), then \`ve orch retry ${chunk}\` lands it.`,
        },
      });
      return;
    }
    if (engine.conflict_runs < MAX_CONFLICT_RUNS) {
      this.state.advance(chunk, {
        status: "READY",
        reason: `conflicts with ${base} in ${result.files.join(", ")}; back to the agent to resolve them`,
        engine: { stage: "resolving", conflict_runs: engine.conflict_runs + 1, conflict_files: result.files },
      });
      return;
    }
    this.state.advance(chunk, {
      status: "NEEDS_ATTENTION",
      reason: `conflicts with ${base} remain after ${MAX_CONFLICT_RUNS} resolution runs`,
      attention: {
        kind: "conflict",
        reason: `${branch} still conflicts with ${base} in ${result.files.join(", ")} after ${MAX_CONFLICT_RUNS} resolution runs; resolve them in ${unitWorktreePath(this.options.paths.stateDir, chunk)} and commit, then \`ve orch retry ${chunk}\`.`,
      },
      engine: { stage: "landing" },
    });
  }

  private gateContext() {
    const config = this.config();
    return {
      repo: this.repo,
      stateDir: this.options.paths.stateDir,
      gates: this.gates,
      info: (message: string) => this.log.info(message),
      exclusive: <T>(work: () => Promise<T>) => this.exclusive(work),
      limits: () => ({ timeoutMs: configValue<number>(config, "verify_timeout_s") * 1000, silenceMs: configValue<number>(config, "silence_timeout_s") * 1000 }),
      stopping: () => this.stopping,
      track: (run: VerifyRun | undefined) => {
        this.gateRun = run;
      },
      retriesGate: configValue<number>(config, "retries.gate"),
      worktreeOf: (chunk: string) => unitWorktreePath(this.options.paths.stateDir, chunk),
    };
  }

  // --- recovery ------------------------------------------------------------------------------

  /**
   * After a daemon died: every run it left open is ended (its process group killed first when
   * the kernel confirms it is still the one started), closed `interrupted`, and its unit made
   * READY to resume. Worktrees git knows are reconciled with the units; one no unit owns is
   * reported, never removed.
   */
  private async recover(): Promise<void> {
    await recoverGates(this.gateContext());
    for (const run of this.state.openRuns()) {
      const worktree = unitWorktreePath(this.options.paths.stateDir, run.chunk);
      if (run.pid !== null && run.process_start !== null) {
        const report = await endProcessGroup({ pid: run.pid, startTime: run.process_start }, { termGraceMs: STOP_TERM_GRACE_MS, sweepDir: worktree, sweepMarker: `VE_RUN_ID=${run.id}` });
        if (report.killed || report.swept.length > 0) this.log.info(`ended what was left of run ${run.id} of '${run.chunk}'`);
      }
      // An agent that asked before its daemon ended waits on the person, not on a rerun.
      const verdict = decideVerdict({ outcome: "interrupted", reason: "the daemon that ran it ended" }, this.state.agentCalls(run.id), "daemon_stopped");
      this.state.finishRun(
        run.id,
        { outcome: verdict.outcome, reason: verdict.outcome === "question" ? verdict.reason : "the daemon that ran it ended", exit_code: null },
        verdict.outcome === "question"
          ? questionStep(verdict)
          : { status: "READY", reason: "the daemon that ran it ended; resumed", engine: { next_reason: { kind: "interrupted" } } },
      );
      this.log.info(`run ${run.id} of '${run.chunk}' was left open by a daemon that ended: closed as interrupted`);
    }
    const units = this.state.unitsInFlight().map(({ unit }) => ({ chunk: unit.chunk, scheduled: true, inFlight: true, worktreeMade: unit.worktree !== null }));
    // A project that only tracks units (v1, git or not) has no engine worktrees to compare: no
    // git runs for it at start.
    if (units.length === 0 && !existsSync(`${this.options.paths.stateDir}/worktrees`)) return;
    await clearStaleGitLocks({ commonDir: () => this.commonDir(), stateDir: this.options.paths.stateDir, root: this.repo, log: this.log });
    // What the repository's settings are as this daemon starts is what its git steps compare with.
    await this.settings.trustNow();
    try {
      for (const row of reconcileWorktrees(this.options.paths.stateDir, await projectPrefixOf(this.repo), units, await listWorktrees(this.repo))) {
        if (row.state === "orphaned") this.log.warn(`worktree ${row.path} (${row.branch ?? "detached"}) belongs to no unit in flight; \`ve orch worktree prune\` removes it`);
      }
    } catch (error) {
      this.log.warn(`could not compare the worktrees with the units: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** How a person ends each git command that can stop half way in the base's checkout. */
const BUSY_OPERATION_ENDS: Record<GitOperation, string> = {
  rebase: "`git rebase --continue` or `git rebase --abort`",
  merge: "`git commit` or `git merge --abort`",
  "cherry-pick": "`git cherry-pick --continue` or `git cherry-pick --abort`",
  revert: "`git revert --continue` or `git revert --abort`",
};

function questionStep(verdict: RunVerdict): NextStep {
  return {
    status: "NEEDS_ATTENTION",
    reason: "the agent asked a question",
    attention: { kind: "question", reason: verdict.reason, ...(verdict.question ? { question: verdict.question } : {}), ...(verdict.options ? { options: verdict.options } : {}) },
  };
}

/**
 * A run during which the repository's shared config or hooks changed: the user's git would run
 * what they name (ve's does not), so nothing is committed until a person has looked.
 */
function settingsChangedStep(chunk: string, changed: SettingsChanged, when: string): NextStep {
  const { changes, commonDir } = changed;
  const shown = changes.slice(0, 20).join("; ") + (changes.length > 20 ? `; ... (${changes.length} in all)` : "");
  return {
    status: "NEEDS_ATTENTION",
    reason: "the repository's shared git settings changed",
    attention: {
      kind: "error",
      code: SETTINGS_CHANGED_CODE,
      reason: `The repository's shared git settings in ${commonDir} changed since ve last trusted them (every checkout's git reads them, and a filter or merge driver there would run in ve's git too), ${when}: ${shown}. Look at them and undo what you did not make yourself (\`git config --unset KEY\`, or remove the hook); then \`ve orch retry ${chunk}\` trusts the settings as they are then and goes on (other units held for the same change need their own retry).`,
    },
  };
}

/** A phase commit a guard refused: nothing committed, the work staged in the worktree for a person. */
function guardRefusedStep(run: RunRow, worktree: string, refused: GuardRefused): NextStep {
  const { refusal, from } = refused;
  const then = `Then \`ve orch retry ${run.chunk}\` runs the phase again.`;
  const how =
    refusal.code === "too_many_deletions"
      ? `If the files should stay, bring them back there${from ? ` (\`git -C '${worktree}' diff --cached -z --diff-filter=D --name-only ${from} | xargs -0 git -C '${worktree}' checkout ${from} --\`)` : ""}; if the deletion is meant, \`ve orch config ${refusal.raise}\`. ${then}`
      : `Remove what should not be committed there (or list it in .gitignore), or raise the setting (\`ve orch config ${refusal.raise}\`). ${then}${refusal.code === "file_too_large" ? " Git hosts refuse files over 100 MB." : ""}`;
  return {
    status: "NEEDS_ATTENTION",
    reason: `the work of ${run.phase} was not committed: it ${firstLine(refusal.summary)}`,
    attention: { kind: "error", code: refusal.code, reason: `The work of phase ${run.phase} was not committed: it ${refusal.summary}${refusal.code === "too_many_deletions" ? `: ${shownPaths(refusal.paths)}` : ""}; it stays in ${worktree}. ${how}` },
  };
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
