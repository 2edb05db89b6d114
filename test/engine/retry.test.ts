import { describe, expect, test } from "bun:test";
import { backoffMs, decideRetry, type RetryPolicy } from "../../src/engine/retry.ts";

const policy: RetryPolicy = { caps: { transient: 3, failed: 1, timeout: 0, limit: 2 }, baseMs: 1000, maxMs: 5000 };
const NOW = Date.parse("2026-12-01T00:00:00.000Z");

describe("retries", () => {
  test("backoff doubles from the base and stops at the cap", () => {
    expect([1, 2, 3, 4, 5, 40].map((n) => backoffMs(n, policy))).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
  });

  test("each kind spends its own budget, then the unit needs a person", () => {
    const transient = { outcome: "failed" as const, reason: "529", transient: true };
    expect(decideRetry(transient, 0, policy, NOW)).toEqual({ retry: true, kind: "transient", attempt: 1, at: NOW + 1000 });
    expect(decideRetry(transient, 2, policy, NOW)).toEqual({ retry: true, kind: "transient", attempt: 3, at: NOW + 4000 });
    expect(decideRetry(transient, 3, policy, NOW)).toMatchObject({ retry: false, why: "all 3 retries are used for transient failures" });
    expect(decideRetry({ outcome: "failed", reason: "exit 1" }, 1, policy, NOW)).toMatchObject({ retry: false, kind: "failed" });
    expect(decideRetry({ outcome: "failed", reason: "f" }, 1, policy, NOW)).toMatchObject({ retry: false, why: "its one retry is used for failed runs" });
    expect(decideRetry({ outcome: "timeout", reason: "t" }, 0, policy, NOW)).toMatchObject({ retry: false, why: "no retries are allowed for runs that timed out" });
  });

  test("a usage limit waits for the reported reset, else backs off", () => {
    const reset = "2026-12-01T05:00:00.000Z";
    expect(decideRetry({ outcome: "limit", reason: "l", reset_at: reset }, 0, policy, NOW)).toMatchObject({ retry: true, at: Date.parse(reset) });
    expect(decideRetry({ outcome: "limit", reason: "l", reset_at: "2025-01-01T00:00:00.000Z" }, 0, policy, NOW)).toMatchObject({ at: NOW + 1000 });
    expect(decideRetry({ outcome: "limit", reason: "l" }, 1, policy, NOW)).toMatchObject({ at: NOW + 2000 });
  });

  test("a completed run or a question is not a failure", () => {
    expect(decideRetry({ outcome: "completed", reason: "ok" }, 0, policy, NOW)).toBeUndefined();
    expect(decideRetry({ outcome: "question", reason: "q" }, 0, policy, NOW)).toBeUndefined();
  });
});
