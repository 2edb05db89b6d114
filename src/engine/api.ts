// What the API's engine routes ask of the engine: one object, so the routes stay thin and the
// engine's rules stay here.
import { existsSync } from "node:fs";
import { attentionOrder, quoteChunkName } from "../domain.ts";
import { VeError } from "../errors.ts";
import { listWorktrees, removeWorktree, uncommittedChanges, unlockWorktree } from "../git/worktrees.ts";
import type {
  AgentAskRequest,
  AgentCall,
  AgentCallRecorded,
  AgentDoneRequest,
  AnswerRequest,
  AttentionEntry,
  AttentionKind,
  BackendCheck,
  BackendInfo,
  ConfigEntry,
  InjectRequest,
  ShutdownResult,
  PruneResult,
  Run,
  WorkUnit,
  WorktreeInfo,
} from "../models/index.ts";
import type { ProjectPaths } from "../project/paths.ts";
import type { EngineStore, NewAgentCall, RunRow } from "../state/engine.ts";
import { BackendChecks } from "./backend-check.ts";
import { hashRunToken } from "./run-token.ts";
import { effectiveConfig, keyDefinition, validateConfigValue } from "./config.ts";
import { planInject } from "./inject.ts";
import { reconcileWorktrees } from "./reconcile.ts";
import { runLogPath } from "./run-log.ts";
import { diskUsageBytes, projectPrefixOf } from "./worktrees.ts";

export class EngineApi {
  constructor(
    private readonly paths: ProjectPaths,
    readonly state: EngineStore,
    /** Drains the daemon's engine for up to the given milliseconds, then ends the daemon; absent outside a daemon. */
    private readonly shutdownHook?: (drainMs: number) => Promise<ShutdownResult>,
    /** The daemon's backends, to list and check; none outside a daemon. */
    readonly checks: BackendChecks = new BackendChecks({ backends: {}, config: () => state.config(), projectDir: paths.root, veBinary: process.execPath }),
  ) {}

  backends(): Promise<BackendInfo[]> {
    return this.checks.list();
  }

  checkBackend(name: string, timeoutMs: number): Promise<BackendCheck> {
    return this.checks.check(name, timeoutMs);
  }

  shutdown(drainMs: number): Promise<ShutdownResult> {
    if (!this.shutdownHook) throw new VeError("daemon_stopping", "This server runs no daemon to shut down.");
    return this.shutdownHook(drainMs);
  }

  /** The checks of an inject (they read git); the write it returns creates the units. */
  planInject(request: InjectRequest): Promise<() => WorkUnit[]> {
    return planInject(this.paths.root, this.state, request);
  }

  retry(chunk: string, fresh: boolean, acceptBase = false): WorkUnit {
    const unit = this.state.store.get(chunk);
    if (unit.status !== "NEEDS_ATTENTION") {
      throw new VeError(
        "not_waiting",
        `Work unit '${chunk}' is ${unit.status}, not waiting on a person; only a unit in NEEDS_ATTENTION can be retried.`,
        { chunk, status: unit.status },
      );
    }
    return this.state.retry(chunk, fresh, acceptBase);
  }

  /**
   * `ve orch retry --all [--kind K]`: every scheduled unit waiting on a person (of that kind),
   * in the queue's order. Call inside one transaction: all are retried or none.
   */
  retryAll(kind: AttentionKind | undefined, fresh: boolean): WorkUnit[] {
    return this.attention(kind)
      .filter((entry) => entry.scheduled)
      .map((entry) => this.state.retry(entry.chunk, fresh));
  }

  /**
   * `ve orch answer`: the reply to a unit's question, as text or as one of its options
   * (1-based). Refused unless the unit waits on a question: a wait of another kind is retried.
   */
  answer(chunk: string, request: AnswerRequest): WorkUnit {
    const unit = this.state.store.get(chunk);
    const name = quoteChunkName(chunk);
    if (unit.status !== "NEEDS_ATTENTION") {
      throw new VeError(
        "not_waiting",
        `Work unit ${name} is ${unit.status}, not waiting on a person; only a unit waiting on its question can be answered.`,
        { chunk, status: unit.status },
      );
    }
    const attention = unit.attention;
    if (!unit.scheduled || attention === null || attention.kind !== "question") {
      const how = unit.scheduled ? `\`ve orch retry ${chunk}\` runs it again` : `\`ve orch work-unit status ${chunk} READY\` releases it`;
      throw new VeError(
        "not_a_question",
        `Work unit ${name} is NEEDS_ATTENTION for ${attention ? `a reason of kind '${attention.kind}'` : "a reason set by hand"}, not a question, so there is nothing to answer; ${how}.`,
        { chunk, status: unit.status, kind: attention?.kind ?? null },
      );
    }
    if ((request.answer === undefined) === (request.option === undefined)) {
      throw new VeError("validation_failed", "Give either answer (text) or option (a number), not both and not neither.", { field: "answer" });
    }
    let text = request.answer;
    if (request.option !== undefined) {
      const options = attention.options ?? [];
      if (options.length === 0) {
        throw new VeError("validation_failed", `The question of ${name} offers no options; answer it with text.`, { field: "option", chunk });
      }
      text = options[request.option - 1];
      if (text === undefined) {
        throw new VeError(
          "validation_failed",
          `Option ${request.option} is not one of the ${options.length} options of ${name}'s question; choose 1-${options.length}.`,
          { field: "option", chunk, options: options.length },
        );
      }
    }
    if ((text ?? "").trim() === "") {
      throw new VeError("validation_failed", "The answer is empty; give the text the agent should get.", { field: "answer", chunk });
    }
    return this.state.answer(chunk, text as string);
  }

  /** The attention queue: what releases the most units first, then the oldest wait. */
  attention(kind?: AttentionKind): AttentionEntry[] {
    const units = this.state.store.list().filter((u) => u.status !== "DONE");
    const now = Date.now();
    const waiting = units
      .filter((u) => u.status === "NEEDS_ATTENTION" && (kind === undefined || u.attention?.kind === kind))
      .map((u): AttentionEntry => {
        const record = u.attention;
        const since = record?.since ?? u.status_changed_at;
        const options = record?.options ?? [];
        return {
          chunk: u.chunk,
          phase: u.phase,
          scheduled: u.scheduled,
          kind: record?.kind ?? null,
          reason: record?.reason ?? this.handReason(u.chunk),
          question: record?.question ?? null,
          options,
          since,
          waiting_s: Math.max(0, Math.floor((now - Date.parse(since)) / 1000)),
          run_id: record?.run_id ?? null,
          ...(record?.code === undefined ? {} : { code: record.code }),
          releases: 0,
          command: !u.scheduled
            ? `ve orch work-unit status ${u.chunk} READY`
            : record?.kind === "question"
              ? options.length > 0
                ? `ve orch answer ${u.chunk} --option N`
                : `ve orch answer ${u.chunk} "ANSWER"`
              : `ve orch retry ${u.chunk}`,
        };
      });
    return attentionOrder(waiting, units).map(({ releases, ...entry }) => ({ ...entry, releases }));
  }

  /** Why a unit set NEEDS_ATTENTION by hand waits: what its last status change said. */
  private handReason(chunk: string): string {
    const last = this.state.store.history(chunk).findLast((e) => e.new_status === "NEEDS_ATTENTION");
    return last?.reason ?? "set NEEDS_ATTENTION by hand";
  }

  private toRun(row: RunRow, calls: AgentCall[], answer: { answer: string; answered_at: string } | undefined): Run {
    return {
      ...row,
      agent_calls: calls,
      answer: answer?.answer ?? null,
      answered_at: answer?.answered_at ?? null,
      log: runLogPath(this.paths.stateDir, row.chunk, row.id),
    };
  }

  runs(chunk?: string): Run[] {
    if (chunk !== undefined) this.state.store.get(chunk);
    const calls = this.state.agentCallsByRun(chunk);
    const answers = this.state.answersByRun(chunk);
    return this.state.runs(chunk).map((r) => this.toRun(r, calls.get(r.id) ?? [], answers.get(r.id)));
  }

  run(id: string): Run {
    const row = this.state.run(id);
    if (!row) throw new VeError("not_found", `No run with id '${id}'; \`ve orch runs\` lists them.`, { run_id: id });
    return this.toRun(row, this.state.agentCalls(id), this.state.answersByRun(row.chunk).get(id));
  }

  /**
   * The run an agent speaks for: the one its secret belongs to, which must be the run it names
   * and still open. A missing or unknown secret, or another run's, is refused alike (401), so a
   * caller learns nothing about other runs; an ended run's own agent is told it has ended (403).
   */
  private callingRun(token: string | null, runId: string): RunRow {
    if (token === null || token === "") {
      throw new VeError(
        "run_token_missing",
        "The request carries no run secret; an agent sends its VE_RUN_TOKEN (`ve mcp` and `ve agent` do), and only from inside the run ve started it for.",
      );
    }
    const run = this.state.runByTokenHashAny(hashRunToken(token));
    if (!run || run.id !== runId) {
      throw new VeError("run_token_invalid", `The run secret given is not the one of run '${runId}'; an agent can speak only for its own run (its VE_RUN_ID and VE_RUN_TOKEN).`, {
        run_id: runId,
      });
    }
    if (run.ended_at !== null) {
      throw new VeError("run_not_open", `Run ${run.id} of '${run.chunk}' has ended (${run.outcome}); an agent can speak only while its run is open.`, {
        run_id: run.id,
        chunk: run.chunk,
      });
    }
    return run;
  }

  /** Records an agent's question or report for its own run; the engine reads it when the run ends. */
  agentCall(token: string | null, request: AgentAskRequest | AgentDoneRequest, kind: "ask" | "done"): AgentCallRecorded {
    const run = this.callingRun(token, request.run_id);
    const via = request.via ?? "cli";
    const call: NewAgentCall =
      kind === "ask"
        ? { kind, via, question: (request as AgentAskRequest).question, options: (request as AgentAskRequest).options ?? [] }
        : { kind, via, ...((request as AgentDoneRequest).summary === undefined ? {} : { summary: (request as AgentDoneRequest).summary }) };
    const recorded = this.state.recordAgentCall(run.id, call);
    const message =
      kind === "ask"
        ? "Recorded your question for the operator. End your turn now: make no more tool calls and stop (a program exits). " +
          "The operator's answer comes as your next instruction when this unit runs again."
        : "Recorded that this phase is done. End your turn now with a short final message (a program exits with status 0).";
    return { run_id: run.id, chunk: run.chunk, call: recorded, message };
  }

  config(): ConfigEntry[] {
    return effectiveConfig(this.state.config());
  }

  setConfig(key: string, value: unknown): ConfigEntry {
    this.state.setConfig(key, validateConfigValue(key, value));
    return this.entry(key);
  }

  unsetConfig(key: string): ConfigEntry {
    keyDefinition(key);
    this.state.setConfig(key, undefined);
    return this.entry(key);
  }

  private entry(key: string): ConfigEntry {
    return this.config().find((e) => e.key === key) as ConfigEntry;
  }

  async worktrees(withSizes = true): Promise<WorktreeInfo[]> {
    const units = this.state.store
      .list()
      .filter((u) => u.scheduled)
      .map((u) => ({ chunk: u.chunk, scheduled: true, inFlight: u.status !== "DONE", worktreeMade: u.worktree !== null }));
    // A project that only tracks units (git or not) never had an engine worktree: asking git
    // would fail outside a repository.
    if (units.length === 0 && !existsSync(`${this.paths.stateDir}/worktrees`)) return [];
    const rows = reconcileWorktrees(this.paths.stateDir, await projectPrefixOf(this.paths.root), units, await listWorktrees(this.paths.root));
    return Promise.all(
      rows.map(async (row) => ({ ...row, size_bytes: withSizes && row.state !== "missing" ? await diskUsageBytes(row.path) : null })),
    );
  }

  /** Removes worktrees no unit in flight owns; a dry run unless `apply`. Branches are kept. */
  async prune(apply: boolean): Promise<PruneResult> {
    const refused: PruneResult["refused"] = [];
    const orphans: WorktreeInfo[] = [];
    // Removing is `git worktree remove --force`: a worktree still holding work nobody committed
    // (its unit deleted or forced DONE while its agent wrote) is kept, and the person told.
    for (const worktree of (await this.worktrees()).filter((w) => w.state === "orphaned")) {
      const changes = existsSync(worktree.path) ? await uncommittedChanges(worktree.path).catch(() => []) : [];
      if (changes.length === 0) {
        orphans.push(worktree);
        continue;
      }
      const shown = changes.slice(0, 10).join(", ") + (changes.length > 10 ? ", ..." : "");
      refused.push({
        path: worktree.path,
        reason: `it holds uncommitted changes (${shown}); commit them on its branch or remove them, then prune again (\`git worktree remove --force\` would discard them)`,
      });
    }
    const removed: WorktreeInfo[] = [];
    if (!apply) return { applied: false, worktrees: orphans, refused };
    for (const worktree of orphans) {
      try {
        await unlockWorktree(this.paths.root, worktree.path);
        await removeWorktree(this.paths.root, worktree.path);
        removed.push(worktree);
      } catch (error) {
        refused.push({ path: worktree.path, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    return { applied: true, worktrees: removed, refused };
  }
}
