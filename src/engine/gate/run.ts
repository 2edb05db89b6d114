// One run of `verify` on one commit: a scratch worktree of its own with the commit checked out
// detached (and the .worktreeinclude files copied in, as for agents), `/bin/sh -c verify` in its
// own process group with the agents' kill ladder and limits, every line in the gate's log
// (`.ve/gates/<id>.jsonl`, tailable like a run's), and the worktree removed once it ended.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { GIT_REDIRECTING_VARIABLES } from "../../git/git.ts";
import { addScratchWorktree, removeScratchWorktree } from "../../git/candidate.ts";
import { type AgentProcess, endProcessGroup, startProcess, watchRunLimits } from "../process-group.ts";
import { RunLog } from "../run-log.ts";
import { copyIncludedFiles } from "../worktrees.ts";
import { type GateRunOutcome, parseJUnit } from "./verdict.ts";

/** The last lines of a gate's output kept for the fix run's prompt and the attention record. */
export const GATE_LOG_TAIL_LINES = 40;
/** SIGTERM to SIGKILL when a limit ends a gate run. */
export const GATE_LIMIT_GRACE_MS = 800;

export function gateLogPath(stateDir: string, gateId: string): string {
  return `${stateDir}/gates/${gateId}.jsonl`;
}

export function scratchWorktreePath(stateDir: string, gateId: string): string {
  return `${stateDir}/gates/worktrees/${gateId}`;
}

/** Variables of ve's own agents and daemon that a gate run never gets. */
const NOT_FOR_GATES: readonly string[] = ["VE_RUN_TOKEN", "VE_RUN_ID", "VE_PHASE", "VE_PROMPT_FILE", "VE_REQUEST_TIMEOUT_MS"];

export interface GateEnvironment {
  gateId: string;
  candidate: string;
  base: string;
  chunk: string;
  projectDir: string;
  reportPath: string;
}

/** The user's environment (a test suite needs the same tools), minus git's redirections and ve's run secrets, plus the gate's own. */
export function gateEnvironment(gate: GateEnvironment, from: Readonly<Record<string, string | undefined>> = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(from)) {
    if (value === undefined || GIT_REDIRECTING_VARIABLES.includes(key) || NOT_FOR_GATES.includes(key)) continue;
    env[key] = value;
  }
  return {
    ...env,
    VE_PROJECT_DIR: gate.projectDir,
    VE_GATE_ID: gate.gateId,
    VE_CANDIDATE: gate.candidate,
    VE_BASE: gate.base,
    VE_CHUNK: gate.chunk,
    VE_GATE_REPORT: gate.reportPath,
  };
}

export interface VerifySpec {
  repo: string;
  stateDir: string;
  gateId: string;
  chunk: string;
  base: string;
  commit: string;
  verify: string;
  timeoutMs: number;
  silenceMs: number;
  /** Runs git commands that change the repository's worktree records, one at a time with the engine's. */
  exclusive: <T>(work: () => Promise<T>) => Promise<T>;
  /** The process started: its identity, for the record a restart ends it by. */
  started: (proc: AgentProcess) => void;
}

export interface VerifyOutcome extends GateRunOutcome {
  tail: string[];
  log: string;
  /** The run was ended from outside (the daemon stops): its result says nothing. */
  interrupted: boolean;
}

/** A running verify, ended from outside by `end` (the daemon stops). */
export interface VerifyRun {
  done: Promise<VerifyOutcome>;
  end(graceMs: number): Promise<void>;
}

export function sweepOf(stateDir: string, gateId: string) {
  return { sweepDir: scratchWorktreePath(stateDir, gateId), sweepMarker: `VE_GATE_ID=${gateId}` };
}

export function startVerify(spec: VerifySpec): VerifyRun {
  let proc: AgentProcess | undefined;
  let ended = false;
  let limit: string | undefined;
  const sweep = sweepOf(spec.stateDir, spec.gateId);
  const done = (async (): Promise<VerifyOutcome> => {
    const worktree = scratchWorktreePath(spec.stateDir, spec.gateId);
    const log = new RunLog(gateLogPath(spec.stateDir, spec.gateId));
    const reportPath = `${spec.stateDir}/gates/${spec.gateId}.report.xml`;
    const tail: string[] = [];
    rmSync(reportPath, { force: true });
    try {
      await spec.exclusive(() => addScratchWorktree(spec.repo, worktree, spec.commit, spec.gateId));
      const included = await copyIncludedFiles(spec.repo, worktree);
      log.note(`gate ${spec.gateId} of '${spec.chunk}': ${spec.commit} on ${spec.base}, in ${worktree}: ${spec.verify}`);
      if (included.copied.length > 0) log.note(`copied into the scratch worktree from .worktreeinclude: ${included.copied.join(", ")}`);
      if (ended) return { exitCode: null, tail, log: log.path, interrupted: true };
      const env = gateEnvironment({ gateId: spec.gateId, candidate: spec.commit, base: spec.base, chunk: spec.chunk, projectDir: spec.repo, reportPath });
      proc = startProcess({
        argv: ["/bin/sh", "-c", spec.verify],
        cwd: worktree,
        env,
        stdin: null,
        onLine: (stream, line) => {
          log.raw(stream, line);
          tail.push(line);
          if (tail.length > GATE_LOG_TAIL_LINES) tail.shift();
        },
      });
      spec.started(proc);
      const running = proc;
      const stopLimits = watchRunLimits(running, { wallMs: spec.timeoutMs, wallSetting: "verify_timeout_s", silenceMs: spec.silenceMs }, (why) => {
        if (limit || ended) return;
        limit = why;
        log.note(`${why}; ending it`);
        void endProcessGroup(running, { termGraceMs: GATE_LIMIT_GRACE_MS, ...sweep });
      });
      if (ended) void endProcessGroup(running, { termGraceMs: GATE_LIMIT_GRACE_MS, ...sweep });
      const exit = await running.done;
      stopLimits();
      // Whatever the verify command left (a server a test started) ends before the worktree goes.
      await endProcessGroup(running, { termGraceMs: GATE_LIMIT_GRACE_MS, leaderExited: true, ...sweep });
      const report = existsSync(reportPath) ? parseJUnit(readFileSync(reportPath, "utf8")) : undefined;
      log.note(`exit ${exit.code ?? `by ${exit.signal}`}${limit ? ` (${limit})` : ""}${report ? `; JUnit report: ${[...report.values()].filter(Boolean).length} of ${report.size} failed` : ""}`);
      return { exitCode: exit.code, limit, report, tail, log: log.path, interrupted: ended && !limit };
    } finally {
      log.close();
      rmSync(reportPath, { force: true });
      await spec.exclusive(() => removeScratchWorktree(spec.repo, worktree)).catch(() => {});
    }
  })();
  return {
    done,
    async end(graceMs: number) {
      ended = true;
      if (proc) await endProcessGroup(proc, { termGraceMs: graceMs, ...sweep });
    },
  };
}
