// `ve orch backend check codex` with the REAL codex CLI (the pinned dev dependency) against the
// scripted OpenAI Responses mock on 127.0.0.1: the daemon runs with the mock's hermetic HOME
// and CODEX_HOME, and the mock's model provider comes in through `backends.codex.args` (-c
// overrides), so the check runs with exactly what a unit's run would get.
import { afterEach, describe, expect, test } from "bun:test";
import { MIN_CODEX_VERSION } from "../../src/agents/codex.ts";
import { checkReport } from "../../src/cli/commands/orch/backend.ts";
import { BackendCheck, BackendList } from "../../src/models/index.ts";
import { CODEX_BIN, type MockOpenAI, type MockStep, codexMockArgs, codexMockSetup, reply, startMockOpenAI } from "../helpers/mock-openai.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { expectOk, useEngineProjects } from "./engine-harness.ts";
import { jsonOf } from "./harness.ts";

const e = useEngineProjects("ve-check-codex");
const homes = useTempDirs("ve-check-codex-home");
const TEST_MS = 150_000;
const CHECK_TIMEOUT_S = "60";
/** The command waits up to the check's own timeout, so its hang guard lies beyond it. */
const CHECK_COMMAND_MS = 90_000;

let mock: MockOpenAI | undefined;
afterEach(async () => {
  await mock?.stop();
  mock = undefined;
});

async function daemonWithMock(dir: string, script: MockStep[]): Promise<void> {
  mock = await startMockOpenAI(script);
  const setup = codexMockSetup(mock, homes());
  expectOk(await e.ve(dir, ["orch", "start"], setup.env));
  expectOk(await e.ve(dir, ["orch", "config", "backends.codex.path", CODEX_BIN]));
  expectOk(await e.ve(dir, ["orch", "config", "backends.codex.args", JSON.stringify(codexMockArgs(mock))]));
}

describe("ve orch backend check codex", () => {
  test("the real codex answers the mock: every step ok, its version against the minimum, its tokens", async () => {
    const { dir } = e.repo();
    await daemonWithMock(dir, [reply.text("OK", { input_tokens: 321, cached_input_tokens: 0, output_tokens: 7 })]);
    const result = await e.ve(dir, ["orch", "backend", "check", "codex", "--timeout", CHECK_TIMEOUT_S, "--json"], {}, CHECK_COMMAND_MS);
    const report = jsonOf(BackendCheck, result);
    expect(result.code, JSON.stringify({ steps: report.steps, output: report.output })).toBe(0);
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([["executable", true], ["version", true], ["start", true], ["outcome", true]]);
    expect(report.executable).toBe(CODEX_BIN);
    expect(report.version).toBe("0.169.0");
    expect(report.min_version).toBe(MIN_CODEX_VERSION);
    expect(report.outcome).toBe("completed");
    expect(report.reply).toContain("OK");
    expect(report.input_tokens).toBe(321);
    expect(report.output_tokens).toBe(7);
    // The model was asked the check's one line, through the mock provider the settings name.
    const calls = mock?.requests.filter((r) => r.path.endsWith("/responses")) ?? [];
    expect(calls.length).toBe(1);
    expect(JSON.stringify(calls[0]?.body)).toContain("ve orch backend check");
    // The list, without starting an agent: the same program and version.
    const listed = jsonOf(BackendList, expectOk(await e.ve(dir, ["orch", "backend", "list", "--json"]))).backends.find((b) => b.name === "codex");
    expect(listed).toEqual({ name: "codex", default: false, configured_path: CODEX_BIN, args: codexMockArgs(mock as MockOpenAI), executable: CODEX_BIN, version: "0.169.0", min_version: MIN_CODEX_VERSION, problem: null });
    expect(mock?.requests.filter((r) => r.path.endsWith("/responses")).length).toBe(1);
    const human = checkReport(report);
    expect(human).toMatch(/ok\s+version\s+0\.169\.0 \(needs 0\.169\.0 or newer\)/);
    expect(human).toContain("321 in + 7 out tokens");
    expect(human).toContain("The codex backend works.");
  }, TEST_MS);

  test("a model API that refuses the request: the outcome fails with codex's error, exit 1", async () => {
    const { dir } = e.repo();
    const refusal = reply.status(400, { error: { type: "invalid_request_error", message: "mock: this model does not exist" } });
    await daemonWithMock(dir, [refusal, refusal, refusal, refusal]);
    const result = await e.ve(dir, ["orch", "backend", "check", "codex", "--timeout", CHECK_TIMEOUT_S, "--json"], {}, CHECK_COMMAND_MS);
    expect(result.code).toBe(1);
    const report = jsonOf(BackendCheck, result);
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([["executable", true], ["version", true], ["start", true], ["outcome", false]]);
    expect(report.outcome).toBe("failed");
    expect(report.reason).toContain("this model does not exist");
    expect(report.steps[3]?.hint).toContain("backends.codex.args");
  }, TEST_MS);

  test("codex missing from the daemon's PATH: the step says how to install it or set its path", async () => {
    const { dir } = e.repo();
    const setup = codexMockSetup({ baseUrl: "http://127.0.0.1:9" }, homes());
    expectOk(await e.ve(dir, ["orch", "start"], { ...setup.env, PATH: "/usr/bin:/bin" }));
    const result = await e.ve(dir, ["orch", "backend", "check", "codex"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAILED\s+executable\s+The codex backend's program codex is not on the daemon's PATH \(/);
    expect(result.stdout).toContain("-> install it with `npm install -g @openai/codex`, or set `ve orch config backends.codex.path /path/to/codex`");
  }, TEST_MS);
});
