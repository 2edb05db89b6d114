// `ve orch backend check claude` with the REAL claude CLI (the pinned dev dependency) against
// the scripted Anthropic mock on 127.0.0.1: the daemon is started with the mock's hermetic
// environment (a temporary HOME and CLAUDE_CONFIG_DIR), so the check runs with exactly what a
// unit's run would get. Also the engine's side: a claude older than the backend's minimum is
// an attention record saying how to upgrade it, and no run starts.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { MIN_CLAUDE_VERSION } from "../../src/agents/claude.ts";
import { checkReport } from "../../src/cli/commands/orch/backend.ts";
import { BackendCheck } from "../../src/models/index.ts";
import { type MockAnthropic, claudeEnv, startMockAnthropic } from "../helpers/mock-anthropic.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { expectOk, useEngineProjects } from "./engine-harness.ts";
import { json, jsonOf } from "./harness.ts";

const CLAUDE = resolve(import.meta.dir, "../../node_modules/.bin/claude");
const e = useEngineProjects("ve-check-claude");
const homes = useTempDirs("ve-check-claude-home");
const TEST_MS = 150_000;
/** The check's run is the real CLI talking to the mock: seconds, but a loaded machine is slow. */
const CHECK_TIMEOUT_S = "60";
/** The command waits up to the check's own timeout, so its hang guard lies beyond it. */
const CHECK_COMMAND_MS = 90_000;

let mock: MockAnthropic | undefined;
afterEach(async () => {
  await mock?.stop();
  mock = undefined;
});

async function daemonWithMock(dir: string, script: Parameters<typeof startMockAnthropic>[0], claudePath = CLAUDE) {
  mock = await startMockAnthropic(script);
  const { env } = claudeEnv(mock, homes());
  expectOk(await e.ve(dir, ["orch", "start"], env));
  expectOk(await e.ve(dir, ["orch", "config", "backends.claude.path", claudePath]));
  return env;
}

describe("ve orch backend check claude", () => {
  test("the real claude answers the mock: every step ok, its version against the minimum, turns and cost", async () => {
    const { dir } = e.repo();
    await daemonWithMock(dir, [{ match: "ve orch backend check", turns: [{ text: "OK", usage: { input_tokens: 12, output_tokens: 1 } }] }]);
    const result = await e.ve(dir, ["orch", "backend", "check", "claude", "--timeout", CHECK_TIMEOUT_S, "--json"], {}, CHECK_COMMAND_MS);
    const report = jsonOf(BackendCheck, result);
    expect(result.code, JSON.stringify(report.steps)).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([["executable", true], ["version", true], ["start", true], ["outcome", true]]);
    expect(report.executable).toBe(CLAUDE);
    expect(report.version).toBe("2.1.328");
    expect(report.min_version).toBe(MIN_CLAUDE_VERSION);
    expect(report.outcome).toBe("completed");
    expect(report.reply).toContain("OK");
    expect(report.turns).toBe(1);
    expect(typeof report.cost_usd).toBe("number");
    // The prompt went to the model as the check's one line; nothing went unanswered.
    expect(mock?.messages().length).toBeGreaterThanOrEqual(1);
    expect(mock?.unscripted).toEqual([]);
    // What the command prints for people, from this very report.
    const human = checkReport(report);
    expect(human).toMatch(/ok\s+version\s+2\.1\.328 \(needs 2\.1\.0 or newer\)/);
    expect(human).toMatch(/spent: .*1 turn, \$\d/);
    expect(human).toContain("The claude backend works.");
  }, TEST_MS);

  test("a model API that keeps failing: the outcome fails with the API's error, exit 1", async () => {
    const { dir } = e.repo();
    await daemonWithMock(dir, [{ turns: [{ status: 500, message: "the mock is down" }] }]);
    const result = await e.ve(dir, ["orch", "backend", "check", "claude", "--timeout", CHECK_TIMEOUT_S, "--json"], {}, CHECK_COMMAND_MS);
    expect(result.code).toBe(1);
    const report = jsonOf(BackendCheck, result);
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([["executable", true], ["version", true], ["start", true], ["outcome", false]]);
    expect(report.outcome).toBe("failed");
    expect(report.reason).toMatch(/500|api/i);
    expect(report.steps[3]?.hint).toBeTruthy();
  }, TEST_MS);

  test("claude missing from the daemon's PATH: the step says how to install it or set its path", async () => {
    const { dir } = e.repo();
    mock = await startMockAnthropic([]);
    const { env } = claudeEnv(mock, homes(), { PATH: "/usr/bin:/bin" });
    expectOk(await e.ve(dir, ["orch", "start"], env));
    const result = await e.ve(dir, ["orch", "backend", "check", "claude"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAILED\s+executable\s+The claude backend's program claude is not on the daemon's PATH \(/);
    expect(result.stdout).toContain("-> install it with `npm install -g @anthropic-ai/claude-code`, or set `ve orch config backends.claude.path /path/to/claude`");
  }, TEST_MS);
});

describe("a claude older than the backend's minimum", () => {
  function oldClaude(): string {
    const path = join(homes(), "claude");
    // Answers --version like the real one; anything else would be a run, which must not happen.
    writeFileSync(path, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "1.0.3 (Claude Code)"; exit 0; fi\ntouch "$0.ran"\nexit 0\n`);
    chmodSync(path, 0o755);
    return path;
  }

  test("the check fails at the version step saying how to upgrade; nothing runs", async () => {
    const { dir } = e.repo();
    const old = oldClaude();
    await daemonWithMock(dir, [], old);
    const result = await e.ve(dir, ["orch", "backend", "check", "claude", "--json"]);
    expect(result.code).toBe(1);
    const report = jsonOf(BackendCheck, result);
    expect(report.version).toBe("1.0.3");
    expect(report.steps[1]).toEqual({
      step: "version",
      ok: false,
      summary: `The claude backend's program ${old} is version 1.0.3, older than the ${MIN_CLAUDE_VERSION} it needs.`,
      hint: "upgrade it with `npm install -g @anthropic-ai/claude-code@latest`, or point `ve orch config backends.claude.path` at a newer one",
    });
    expect(await Bun.file(`${old}.ran`).exists()).toBe(false);
  }, TEST_MS);

  test("a unit of the claude backend needs attention saying how to upgrade; the run records the version", async () => {
    const { dir } = e.repo();
    const old = oldClaude();
    await daemonWithMock(dir, [], old);
    expectOk(await e.ve(dir, ["orch", "inject", "parser", "--phase", "IMPLEMENT", "--backend", "claude"]));
    const [unit] = await e.waitUnits(dir, (us) => us[0]?.status === "NEEDS_ATTENTION");
    expect(unit?.attention?.kind).toBe("error");
    expect(unit?.attention?.reason).toBe(
      `The claude backend's program ${old} is version 1.0.3, older than the ${MIN_CLAUDE_VERSION} it needs; upgrade it with \`npm install -g @anthropic-ai/claude-code@latest\`, or point \`ve orch config backends.claude.path\` at a newer one. Then \`ve orch backend check claude\` tests it and \`ve orch retry parser\` runs the unit again.`,
    );
    const runs = json<{ runs: { outcome: string; backend: string; backend_version: string | null }[] }>(await e.ve(dir, ["orch", "runs", "--json"])).runs;
    expect(runs.map((r) => [r.backend, r.backend_version, r.outcome])).toEqual([["claude", "1.0.3", "failed"]]);
    expect(await Bun.file(`${old}.ran`).exists()).toBe(false);
  }, TEST_MS);
});
