import { describe, expect, test } from "bun:test";
import { type BaselineFacts, type GateRunOutcome, type GateVerdict, judgeGate, parseJUnit } from "../../src/engine/gate/verdict.ts";

const report = (cases: Record<string, boolean>) => new Map(Object.entries(cases));
const pass: GateRunOutcome = { exitCode: 0 };
const fail: GateRunOutcome = { exitCode: 1 };
const greenBase: BaselineFacts = { green: true, reported: false, failed_tests: [] };
const redBase: BaselineFacts = { green: false, reported: false, failed_tests: [] };
const redReportedBase: BaselineFacts = { green: false, reported: true, failed_tests: ["old"] };

describe("judgeGate", () => {
  const rows: [string, GateRunOutcome, BaselineFacts | undefined, GateRunOutcome | undefined, GateVerdict][] = [
    ["a passing run is green, no baseline asked", pass, undefined, undefined, { kind: "green" }],
    ["a limit decides at once", { exitCode: null, limit: "it ran longer than verify_timeout_s (1 s)" }, undefined, undefined, { kind: "limit", reason: "it ran longer than verify_timeout_s (1 s)" }],
    ["a failure is run once more first", fail, undefined, undefined, { kind: "rerun" }],
    ["failed then passed is flaky, no baseline asked", fail, undefined, pass, { kind: "flaky", flaky_tests: [] }],
    ["failed then passed with a report: the failed tests are flaky", { exitCode: 1, report: report({ t: true }) }, undefined, pass, { kind: "flaky", flaky_tests: ["t"] }],
    ["failed twice asks for the base's baseline", fail, undefined, fail, { kind: "need_baseline" }],
    ["failed twice over a green base is red", fail, greenBase, fail, { kind: "red", failed_tests: [] }],
    ["no report over a red base: the base is red on its own", fail, redBase, fail, { kind: "base_red" }],
    ["only the base's own failures (by id): lands", { exitCode: 1, report: report({ old: true, a: false }) }, redReportedBase, { exitCode: 1, report: report({ old: true, a: false }) }, { kind: "green_over_base", base_failures: ["old"] }],
    ["a new failure that fails both times is red, named", { exitCode: 1, report: report({ old: true, new: true }) }, redReportedBase, { exitCode: 1, report: report({ old: true, new: true }) }, { kind: "red", failed_tests: ["new"] }],
    ["new failures that each failed once only are flaky, named", { exitCode: 1, report: report({ old: true, x: true, y: false }) }, redReportedBase, { exitCode: 1, report: report({ old: true, x: false, y: true }) }, { kind: "flaky", flaky_tests: ["x", "y"] }],
    ["a report naming no failure of a failing run: the exit status decides", { exitCode: 1, report: report({ a: false }) }, redBase, { exitCode: 1, report: report({ a: false }) }, { kind: "base_red" }],
  ];
  for (const [name, first, baseline, rerun, expected] of rows) test(name, () => expect(judgeGate(first, baseline, rerun)).toEqual(expected));
});

describe("parseJUnit", () => {
  test("test cases by classname > name, failed with a <failure> or <error>, entities decoded", () => {
    const xml = `<?xml version="1.0"?><testsuites><testsuite name="s">
      <testcase classname="math" name="adds &amp; carries" time="0.1"/>
      <testcase classname="math" name="divides"><failure message="x">boom</failure></testcase>
      <testcase name='alone'><error/></testcase>
      <testcase classname="math" name="skipped"><skipped/></testcase>
    </testsuite></testsuites>`;
    expect(parseJUnit(xml)).toEqual(new Map([["math > adds & carries", false], ["math > divides", true], ["alone", true], ["math > skipped", false]]));
  });
  test("text with no test case is no report", () => expect(parseJUnit("<testsuites/>")).toBeUndefined());
});
