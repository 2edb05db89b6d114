// The gate's verdicts, pure functions over what the gate runs reported: which failures block a
// landing (those the base's own baseline lacks), which are flaky (failed, then passed on a rerun
// of the same candidate), and a JUnit XML report read into test ids.

/** One run of `verify`: its exit status, the limit that ended it, and the JUnit report it wrote, if any. */
export interface GateRunOutcome {
  exitCode: number | null;
  /** The limit that ended it ("it ran longer than verify_timeout_s (1800 s)"), if one did. */
  limit?: string | undefined;
  /** Test id to whether it failed, from $VE_GATE_REPORT; undefined when no report was written. */
  report?: ReadonlyMap<string, boolean> | undefined;
}

export interface BaselineFacts {
  green: boolean;
  reported: boolean;
  failed_tests: readonly string[];
}

export type GateVerdict =
  | { kind: "green" }
  /** Failures, but only ones the base has too (by test id): lands. */
  | { kind: "green_over_base"; base_failures: string[] }
  /** Failed, then passed on a rerun of the same candidate: lands, the flaky tests listed. */
  | { kind: "flaky"; flaky_tests: string[] }
  /** A limit ended it: a person decides (no fix run can make a hang shorter). */
  | { kind: "limit"; reason: string }
  /** The base fails verify on its own and no report tells its failures from the unit's. */
  | { kind: "base_red" }
  | { kind: "red"; failed_tests: string[] }
  /** Run the same candidate once more (a failure may be a flake); `baseline` first if it is not known. */
  | { kind: "rerun" }
  | { kind: "need_baseline" };

function failedIds(report: ReadonlyMap<string, boolean>): string[] {
  return [...report].filter(([, failed]) => failed).map(([id]) => id).sort();
}

/**
 * What the gate does next from its runs so far on one candidate: `first`, then a `rerun` of the
 * same candidate (a pass then is a flake), then, only when both failed, `baseline` (the base
 * head's own result): with reports, only failures the base lacks that failed both times block.
 */
export function judgeGate(first: GateRunOutcome, baseline: BaselineFacts | undefined, rerun: GateRunOutcome | undefined): GateVerdict {
  if (first.limit) return { kind: "limit", reason: first.limit };
  if (first.exitCode === 0) return { kind: "green" };
  if (rerun === undefined) return { kind: "rerun" };
  if (rerun.limit) return { kind: "limit", reason: rerun.limit };
  // A report that names no failure of a failing run (a step after the tests failed): the exit status decides.
  const failedOf = (run: GateRunOutcome) => {
    const ids = run.report ? failedIds(run.report) : [];
    return ids.length > 0 ? ids : undefined;
  };
  const firstFailed = failedOf(first);
  if (rerun.exitCode === 0) return { kind: "flaky", flaky_tests: firstFailed ?? [] };
  if (baseline === undefined) return { kind: "need_baseline" };
  const rerunFailed = failedOf(rerun);
  if (rerunFailed === undefined) return baseline.green ? { kind: "red", failed_tests: firstFailed ?? [] } : { kind: "base_red" };
  const baseFailures = new Set(baseline.failed_tests);
  const fresh = rerunFailed.filter((id) => !baseFailures.has(id));
  if (fresh.length === 0) return baseline.reported ? { kind: "green_over_base", base_failures: rerunFailed } : baseline.green ? { kind: "red", failed_tests: rerunFailed } : { kind: "base_red" };
  const red = fresh.filter((id) => firstFailed === undefined || firstFailed.includes(id));
  if (red.length > 0) return { kind: "red", failed_tests: red };
  const flaky = [...new Set([...(firstFailed ?? []), ...rerunFailed])].filter((id) => !baseFailures.has(id)).sort();
  return { kind: "flaky", flaky_tests: flaky };
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag);
  if (!match) return undefined;
  return unescapeXml(match[2] ?? match[3] ?? "");
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (whole, entity: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
    if (named[entity.toLowerCase()]) return named[entity.toLowerCase()] as string;
    const code = entity[1]?.toLowerCase() === "x" ? Number.parseInt(entity.slice(2), 16) : Number.parseInt(entity.slice(1), 10);
    return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
  });
}

/**
 * The test cases of a JUnit XML report (bun test, pytest, jest, vitest, gotestsum all write
 * this shape): id `classname > name` (the name alone without a classname), failed when it holds
 * a <failure> or <error>. A case named twice is failed when any of its entries is. Undefined
 * when the text holds no test case (not a report).
 */
export function parseJUnit(xml: string): Map<string, boolean> | undefined {
  const cases = new Map<string, boolean>();
  const pattern = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase\s*>)/g;
  for (const match of xml.matchAll(pattern)) {
    const tag = match[1] ?? "";
    const name = attribute(tag, "name");
    if (name === undefined) continue;
    const classname = attribute(tag, "classname");
    const id = classname ? `${classname} > ${name}` : name;
    const body = match[3] ?? "";
    const failed = /<(failure|error)\b/.test(body);
    cases.set(id, (cases.get(id) ?? false) || failed);
  }
  return cases.size > 0 ? cases : undefined;
}
