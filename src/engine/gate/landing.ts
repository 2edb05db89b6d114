// The one call site between the engine's landing and the gate: runs the gate for a unit and says
// what the landing does with the outcome: a LandResult as an ungated landing would give (landed,
// conflict, dirty, busy), or the unit's next step (a fix run, `gate` attention), or nothing (the
// daemon stops mid-gate: the unit stays waiting to land and its gate runs again at the next start).
import { existsSync, rmSync } from "node:fs";
import { removeScratchWorktree, scratchWorktrees } from "../../git/candidate.ts";
import type { LandResult } from "../../git/land.ts";
import type { EngineRow, NextStep } from "../../state/engine.ts";
import type { GateRow } from "../../state/gates.ts";
import { endProcessGroup } from "../process-group.ts";
import { type GateDeps, type GateRequest, baselineRunId, gateAndLand } from "./gate.ts";
import { GATE_LIMIT_GRACE_MS, sweepOf } from "./run.ts";

export interface GateContext extends GateDeps {
  retriesGate: number;
  worktreeOf: (chunk: string) => string;
}

function shownTail(tail: readonly string[], lines = 15): string {
  return tail.slice(-lines).join("\n");
}

export async function gateLanding(ctx: GateContext, request: GateRequest, engine: EngineRow): Promise<{ result?: LandResult; step?: NextStep }> {
  const outcome = await gateAndLand(ctx, request);
  const { chunk, base, branch } = request;
  switch (outcome.kind) {
    case "interrupted":
      return {};
    case "landed":
      return { result: { kind: "landed", commit: outcome.commit, checkout: outcome.checkout } };
    case "already_landed":
    case "conflict":
    case "dirty":
    case "busy":
      return { result: outcome };
    case "limit":
      return { step: attentionStep(chunk, outcome.gate, `the gate of ${branch} on ${base} was ended: ${outcome.reason}`, outcome.tail, `${outcome.reason}, so the whole process group of \`${request.verify}\` was ended and nothing landed; raise the limit (\`ve orch config verify_timeout_s\` or \`silence_timeout_s\`) or make verify faster, then \`ve orch retry ${chunk}\` gates it again.`, "gate_limit") };
    case "base_red":
      return { step: attentionStep(chunk, outcome.gate, `${base} fails verify on its own at ${outcome.gate.base_commit.slice(0, 12)}`, outcome.tail, `the base fails verify on its own (\`${request.verify}\` fails at ${outcome.gate.base_commit}), so a failure of the candidate says nothing of ${branch}; nothing landed. Make ${base} green (or have verify write a JUnit report to $VE_GATE_REPORT, so only new failures block), then \`ve orch retry ${chunk}\`.`, "base_red") };
    case "red": {
      const gate = outcome.gate;
      if (engine.gate_runs < ctx.retriesGate) {
        const reason = { kind: "gate" as const, base, candidate: gate.candidate, verify: request.verify, failed_tests: gate.failed_tests, log_tail: outcome.tail, log: `${ctx.stateDir}/gates/${gate.id}.jsonl` };
        return {
          step: {
            status: "READY",
            reason: `gate ${gate.id} red on ${gate.candidate.slice(0, 12)}${gate.failed_tests.length > 0 ? ` (${gate.failed_tests.join(", ")})` : ""}; back to the agent to fix it (${engine.gate_runs + 1} of ${ctx.retriesGate})`,
            engine: { stage: "fixing", gate_runs: engine.gate_runs + 1, next_reason: reason },
          },
        };
      }
      return { step: attentionStep(chunk, gate, `the gate stays red after ${ctx.retriesGate} fix runs`, outcome.tail, `\`${request.verify}\` still fails on candidate ${gate.candidate} after ${ctx.retriesGate} fix runs${gate.failed_tests.length > 0 ? ` (failing: ${gate.failed_tests.join(", ")})` : ""}; nothing landed. Fix it in ${ctx.worktreeOf(chunk)} and commit, then \`ve orch retry ${chunk}\` gates it again.`) };
    }
  }
}

function attentionStep(chunk: string, gate: GateRow, short: string, tail: readonly string[], how: string, code?: string): NextStep {
  return {
    status: "NEEDS_ATTENTION",
    reason: short,
    attention: {
      kind: "gate",
      reason: `Gate ${gate.id} of '${chunk}': ${how} The gate's log: ${gate.worktree.replace(/\/worktrees\/[^/]+$/, "")}/${gate.id}.jsonl; its end:\n${shownTail(tail)}`,
      ...(code ? { code } : {}),
    },
    engine: { stage: "landing" },
  };
}

/**
 * At start: a gate a dead daemon left running is ended (its process group and whatever carries
 * its id), recorded interrupted, and its unit, still waiting to land, is gated again; every
 * scratch worktree is removed.
 */
export async function recoverGates(ctx: GateContext): Promise<void> {
  for (const gate of ctx.gates.openGates()) {
    for (const id of [gate.id, baselineRunId(gate.id)]) {
      await endProcessGroup(gate.pid !== null && gate.process_start !== null && id === gate.id ? { pid: gate.pid, startTime: gate.process_start } : { pid: 0, startTime: "" }, { termGraceMs: GATE_LIMIT_GRACE_MS, ...sweepOf(ctx.stateDir, id) });
    }
    ctx.gates.close(gate.id, { state: "interrupted", exit_code: null, reason: "the daemon that ran it ended; gated again" });
    ctx.info(`gate ${gate.id} of '${gate.chunk}' was left running by a daemon that ended: ended, and gated again`);
  }
  if (!existsSync(`${ctx.stateDir}/gates`)) return;
  for (const path of await scratchWorktrees(ctx.repo)) await ctx.exclusive(() => removeScratchWorktree(ctx.repo, path));
  rmSync(`${ctx.stateDir}/gates/worktrees`, { recursive: true, force: true });
}
