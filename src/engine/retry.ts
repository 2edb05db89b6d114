// When a run that did not complete its phase is tried again, and when it needs a person
// instead. Pure: the scheduler persists the counters and the time of the next try, and sets a
// timer for it; nothing here reads a clock of its own.
import type { RunVerdict } from "../agents/backend.ts";

export type RetryKind = "transient" | "failed" | "timeout" | "limit";

export interface RetryPolicy {
  /** Retries allowed per kind before the unit needs a person. */
  caps: Record<RetryKind, number>;
  baseMs: number;
  maxMs: number;
}

export type RetryDecision =
  | { retry: true; kind: RetryKind; attempt: number; at: number }
  | { retry: false; kind: RetryKind; attempt: number; why: string };

/** What each budget is spent on, as a person reads it in an attention record. */
const RETRIED: Record<RetryKind, string> = {
  transient: "transient failures",
  failed: "failed runs",
  timeout: "runs that timed out",
  limit: "usage limits",
};

/** Which retry budget a verdict spends; undefined for a verdict that is not a failure. */
export function retryKindOf(verdict: RunVerdict): RetryKind | undefined {
  switch (verdict.outcome) {
    case "failed":
      return verdict.transient ? "transient" : "failed";
    case "timeout":
      return "timeout";
    case "limit":
      return "limit";
    default:
      return undefined;
  }
}

/** Capped exponential backoff: base, 2x base, 4x base ... never above max. */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, "baseMs" | "maxMs">): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
}

/**
 * `used` is how many retries of this kind the unit already had in this phase. A usage limit
 * waits until the reset the agent reported (if it is in the future), else backs off.
 */
export function decideRetry(verdict: RunVerdict, used: number, policy: RetryPolicy, now: number): RetryDecision | undefined {
  const kind = retryKindOf(verdict);
  if (kind === undefined) return undefined;
  const attempt = used + 1;
  if (attempt > policy.caps[kind]) {
    const cap = policy.caps[kind];
    return { retry: false, kind, attempt, why: `${cap === 0 ? "no retries are allowed" : cap === 1 ? "its one retry is used" : `all ${cap} retries are used`} for ${RETRIED[kind]}` };
  }
  const reset = verdict.reset_at ? Date.parse(verdict.reset_at) : Number.NaN;
  if (kind === "limit" && Number.isFinite(reset) && reset > now) return { retry: true, kind, attempt, at: reset };
  return { retry: true, kind, attempt, at: now + backoffMs(attempt, policy) };
}
