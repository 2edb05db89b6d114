// The landing gate of one unit: build the candidate (the exact merge commit that would land),
// run `verify` on it in a scratch worktree, judge the result against the base's own baseline
// (asked for only after a failure, cached per base commit) and a rerun (a flake), and publish
// that same commit by compare-and-swap when it is green. A base that moved meanwhile gets a new
// candidate, gated again: nothing ungated is ever published.
import { type Candidate, buildCandidate } from "../../git/candidate.ts";
import { type PublishResult, publishCommit } from "../../git/land.ts";
import type { GateRow, GateStore } from "../../state/gates.ts";
import type { AgentProcess } from "../process-group.ts";
import { type VerifyOutcome, type VerifyRun, startVerify } from "./run.ts";
import { type BaselineFacts, type GateRunOutcome, type GateVerdict, judgeGate } from "./verdict.ts";

export interface GateDeps {
  repo: string;
  stateDir: string;
  gates: GateStore;
  info: (message: string) => void;
  exclusive: <T>(work: () => Promise<T>) => Promise<T>;
  limits: () => { timeoutMs: number; silenceMs: number };
  stopping: () => boolean;
  /** The verify run under way, for the daemon's stop to end (undefined once it ended). */
  track: (run: VerifyRun | undefined) => void;
}

export interface GateRequest {
  chunk: string;
  base: string;
  branch: string;
  message: string;
  verify: string;
  /** When the unit started to wait for its landing. */
  queuedAt: string;
}

export type GateLanding =
  | Exclude<Candidate, { kind: "candidate" }>
  | Exclude<PublishResult, { kind: "landed" | "moved" }>
  | { kind: "landed"; commit: string; checkout: string | null; gate: GateRow }
  | { kind: "red"; gate: GateRow; tail: string[] }
  | { kind: "limit"; gate: GateRow; reason: string; tail: string[] }
  | { kind: "base_red"; gate: GateRow; tail: string[] }
  | { kind: "interrupted" };

export function newGateId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const random = Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, "0")).join("");
  return `g${stamp}-${random}`;
}

/** The gate id the baseline run of gate `id` uses (its own log and scratch worktree). */
export function baselineRunId(id: string): string {
  return `${id}-base`;
}

const LANDS: ReadonlySet<GateVerdict["kind"]> = new Set(["green", "green_over_base", "flaky"]);

export async function gateAndLand(deps: GateDeps, request: GateRequest): Promise<GateLanding> {
  for (;;) {
    if (deps.stopping()) return { kind: "interrupted" };
    const candidate = await buildCandidate(deps.repo, request.base, request.branch, request.message);
    if (candidate.kind !== "candidate") return candidate;
    const id = newGateId();
    const gate = deps.gates.open({
      id,
      chunk: request.chunk,
      base: request.base,
      base_commit: candidate.base_commit,
      candidate: candidate.commit,
      verify: request.verify,
      worktree: `${deps.stateDir}/gates/worktrees/${id}`,
      queued_at: request.queuedAt,
    });
    deps.info(`gate ${id} of '${request.chunk}': ${candidate.commit.slice(0, 12)} (${request.branch} onto ${request.base} at ${candidate.base_commit.slice(0, 12)})`);
    const once = (runId: string, commit: string) => verifyOnce(deps, gate, runId, commit);
    const first = await once(id, candidate.commit);
    if (first.interrupted) return interrupted(deps, id);
    let baseline: BaselineFacts | undefined;
    let rerun: VerifyOutcome | undefined;
    let verdict: GateVerdict;
    for (;;) {
      verdict = judgeGate(first, baseline, rerun);
      if (verdict.kind === "need_baseline") {
        const known = deps.gates.baseline(candidate.base_commit, request.verify);
        if (known) baseline = known;
        else {
          const base = await once(baselineRunId(id), candidate.base_commit);
          if (base.interrupted) return interrupted(deps, id);
          baseline = baselineOf(base);
          deps.gates.saveBaseline({ base_commit: candidate.base_commit, verify: request.verify, ...baseline });
        }
      } else if (verdict.kind === "rerun") {
        rerun = await once(id, candidate.commit);
        if (rerun.interrupted) return interrupted(deps, id);
      } else break;
    }
    const last = rerun ?? first;
    const ended = closeGate(deps.gates, id, verdict, last);
    if (!LANDS.has(verdict.kind)) {
      if (verdict.kind === "limit") return { kind: "limit", gate: ended, reason: verdict.reason, tail: last.tail };
      if (verdict.kind === "base_red") return { kind: "base_red", gate: ended, tail: first.tail };
      return { kind: "red", gate: ended, tail: last.tail };
    }
    const published = await deps.exclusive(() => publishCommit(deps.repo, request.base, candidate.base_commit, candidate.commit, request.message));
    if (published.kind === "landed") return { kind: "landed", commit: candidate.commit, checkout: published.checkout, gate: ended };
    if (published.kind !== "moved") return published;
    deps.info(`gate ${id} of '${request.chunk}' was green, but ${request.base} moved meanwhile: a new candidate is gated`);
  }
}

async function verifyOnce(deps: GateDeps, gate: GateRow, runId: string, commit: string): Promise<VerifyOutcome> {
  const { timeoutMs, silenceMs } = deps.limits();
  const run = startVerify({
    repo: deps.repo,
    stateDir: deps.stateDir,
    gateId: runId,
    chunk: gate.chunk,
    base: gate.base,
    commit,
    verify: gate.verify,
    timeoutMs,
    silenceMs,
    exclusive: deps.exclusive,
    started: (proc: AgentProcess) => deps.gates.recordProcess(gate.id, proc.pid, proc.startTime),
  });
  deps.track(run);
  try {
    return await run.done;
  } finally {
    deps.track(undefined);
  }
}

function interrupted(deps: GateDeps, id: string): GateLanding {
  deps.gates.close(id, { state: "interrupted", exit_code: null, reason: "the daemon stopped during the gate; the next start gates it again" });
  return { kind: "interrupted" };
}

function baselineOf(run: GateRunOutcome): BaselineFacts {
  const failed = run.report ? [...run.report].filter(([, f]) => f).map(([id]) => id).sort() : [];
  return { green: run.exitCode === 0 && !run.limit, reported: run.report !== undefined, failed_tests: failed };
}

function closeGate(gates: GateStore, id: string, verdict: GateVerdict, last: GateRunOutcome): GateRow {
  switch (verdict.kind) {
    case "green":
      gates.close(id, { state: "green", exit_code: last.exitCode, reason: "verify passed" });
      break;
    case "green_over_base":
      gates.close(id, { state: "green", exit_code: last.exitCode, reason: `only failures the base has too: ${verdict.base_failures.join(", ")}` });
      break;
    case "flaky":
      gates.close(id, { state: "flaky", exit_code: last.exitCode, reason: "failed, then passed on a rerun of the same candidate", flaky_tests: verdict.flaky_tests });
      break;
    case "limit":
      gates.close(id, { state: "red", exit_code: last.exitCode, reason: verdict.reason });
      break;
    case "base_red":
      gates.close(id, { state: "red", exit_code: last.exitCode, reason: "the base fails verify on its own" });
      break;
    case "red":
      gates.close(id, { state: "red", exit_code: last.exitCode, reason: `verify failed twice${verdict.failed_tests.length > 0 ? `: ${verdict.failed_tests.join(", ")}` : ""}`, failed_tests: verdict.failed_tests });
      break;
    default:
      break;
  }
  return gates.get(id) as GateRow;
}
