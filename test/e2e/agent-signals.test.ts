// An agent asks the operator and reports its phase done, through the compiled dist/ve with the
// scripted `command` agent: `ve agent ask` (and `ve mcp`'s ask_operator, driven by the agent
// over a pipe) makes the unit wait with its question and options whatever the exit code, `ve
// orch answer` brings the answer into the next run, `ve agent done`'s summary is kept on the
// run. An agent cannot speak for another run: a wrong token, another run's id, a missing token
// and an ended run's token are refused and change nothing.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expectOk, git, useEngineProjects } from "./engine-harness.ts";
import { VE, json, run, waitFor } from "./harness.ts";
import { useTempDirs } from "../helpers/temp.ts";

const e = useEngineProjects("ve-agent-signals");
const scratch = useTempDirs("ve-agent-signals-out");
const ENGINE_TEST_MS = 120_000;

interface AgentCallJson {
  kind: string;
  via: string;
  question: string | null;
  options: string[] | null;
  summary: string | null;
}
interface RunJson {
  id: string;
  phase: string;
  outcome: string | null;
  exit_code: number | null;
  summary: string | null;
  agent_calls: AgentCallJson[];
}
interface UnitAttention {
  kind: string;
  reason: string;
  question?: string | null;
  options?: string[] | null;
  run_id?: string | null;
}

const sh = (script: string) => ({ run: ["sh", "-c", script] });

async function runsOf(dir: string, chunk: string): Promise<RunJson[]> {
  return json<{ runs: RunJson[] }>(expectOk(await e.ve(dir, ["orch", "runs", chunk, "--json"]))).runs;
}

function prompts(script: string, chunk: string): { phase: string; attempt: number; prompt: string }[] {
  if (!existsSync(`${script}.prompts`)) return [];
  return readFileSync(`${script}.prompts`, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((p) => p.chunk === chunk);
}

describe("ve agent ask / done with the command backend", () => {
  test(
    "ask with options, then exit 3: NEEDS_ATTENTION question in `ve orch attention`; answered, the next run gets the answer; done's summary is kept; the unit lands",
    async () => {
      const { dir, script } = e.repo();
      await e.start(dir, script, {
        asks: {
          IMPLEMENT: [
            // First attempt: asks (commas and all in an option), then fails anyway: still a question.
            [sh("ve agent ask 'Which parser should I write?' --option 'hand-written, fast' --option 'generated'"), { exit: 3 }],
            [{ write: { "parser.txt": "generated parser\n" } }, sh("ve agent done 'Parser generated, as the operator chose.'")],
          ],
          COMPLETE: [sh("ve agent done 'Checked.'")],
        },
      });
      expectOk(await e.ve(dir, ["orch", "inject", "asks", "--phase", "IMPLEMENT"]));
      const [waiting] = await e.waitUnits(dir, (units) => units[0]?.status === "NEEDS_ATTENTION");
      const record = waiting?.attention as UnitAttention;
      expect(record).toMatchObject({ kind: "question", question: "Which parser should I write?", options: ["hand-written, fast", "generated"] });
      expect(record.reason).toContain("`ve agent ask`");
      const first = (await runsOf(dir, "asks"))[0] as RunJson;
      expect(record.run_id).toBe(first.id);
      expect(first).toMatchObject({ outcome: "question", exit_code: 3, agent_calls: [{ kind: "ask", via: "cli", question: "Which parser should I write?", options: ["hand-written, fast", "generated"] }] });

      const queue = json<{ attention: { chunk: string; kind: string; question: string; options: string[] }[] }>(expectOk(await e.ve(dir, ["orch", "attention", "--json"])));
      expect(queue.attention).toMatchObject([{ chunk: "asks", kind: "question", question: "Which parser should I write?", options: ["hand-written, fast", "generated"] }]);

      expectOk(await e.ve(dir, ["orch", "answer", "asks", "--option", "2"]));
      const [done] = await e.waitUnits(dir, (units) => units[0]?.status === "DONE" || units[0]?.status === "NEEDS_ATTENTION");
      expect(done?.status).toBe("DONE");
      const second = prompts(script, "asks").filter((p) => p.phase === "IMPLEMENT")[1];
      expect(second?.prompt).toContain("generated");
      expect(second?.prompt).toContain("Which parser should I write?");
      const runs = await runsOf(dir, "asks");
      expect(runs.map((r) => [r.phase, r.outcome, r.summary])).toEqual([
        ["IMPLEMENT", "question", null],
        ["IMPLEMENT", "completed", "Parser generated, as the operator chose."],
        ["COMPLETE", "completed", "Checked."],
      ]);
      expect(readFileSync(join(dir, "parser.txt"), "utf8")).toBe("generated parser\n");
      expect(git(dir, "log", "--format=%s", "main")).toContain("Land asks (ve)");
      // The human table shows the run's summary too.
      expect(expectOk(await e.ve(dir, ["orch", "runs", "asks"])).stdout).toContain("Parser generated");
    },
    ENGINE_TEST_MS,
  );

  test(
    "ask_operator through `ve mcp` on a pipe: recorded via mcp, the tool answers at once, the unit waits with the question",
    async () => {
      const { dir, script } = e.repo();
      const out = join(scratch(), "mcp.out");
      const messages = [
        { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "scripted", version: "1" } } },
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "ask_operator", arguments: { question: "Drop Python 2 support?", options: ["yes", "no"] } } },
      ];
      const input = messages.map((m) => JSON.stringify(m)).join("\n");
      await e.start(dir, script, { mcp: { IMPLEMENT: [sh(`printf '%s\\n' '${input}' | "$VE_BIN" mcp > '${out}'`)] } });
      expectOk(await e.ve(dir, ["orch", "inject", "mcp", "--phase", "IMPLEMENT"]));
      const [unit] = await e.waitUnits(dir, (units) => units[0]?.status !== "READY" && units[0]?.status !== "RUNNING");
      expect(unit?.status).toBe("NEEDS_ATTENTION");
      expect(unit?.attention).toMatchObject({ kind: "question", question: "Drop Python 2 support?", options: ["yes", "no"] });
      expect(unit?.attention?.reason).toContain("ask_operator");
      const answers = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
      const call = answers.find((a) => a.id === 2);
      expect(call.result.isError).toBe(false);
      expect(call.result.content[0].text).toContain("End your turn now");
      expect((await runsOf(dir, "mcp"))[0]).toMatchObject({ outcome: "question", exit_code: 0, agent_calls: [{ kind: "ask", via: "mcp" }] });
    },
    ENGINE_TEST_MS,
  );

  test(
    "an agent cannot speak for another run: a wrong token, another run's id, no token, and its own token once the run ended are refused, and nothing changes",
    async () => {
      const { dir, script } = e.repo();
      const out = scratch();
      const wrong = "0".repeat(64);
      await e.start(dir, script, {
        impostor: {
          IMPLEMENT: [
            sh(`VE_RUN_TOKEN=${wrong} ve agent ask 'Answer for me?' --json > '${out}/wrong.json' 2> '${out}/wrong.err'; echo $? > '${out}/wrong.code'`),
            sh(`VE_RUN_ID=20200101-000000-abcdef ve agent done 'not mine' --json > '${out}/other.json' 2>/dev/null; echo $? > '${out}/other.code'`),
            sh(`env -u VE_RUN_TOKEN ve agent ask 'No token?' --json > '${out}/none.json' 2>/dev/null; echo $? > '${out}/none.code'`),
            // Kept for the test to try once this run has ended.
            sh(`printf '%s %s' "$VE_RUN_ID" "$VE_RUN_TOKEN" > '${out}/identity'`),
          ],
          "*": [],
        },
      });
      expectOk(await e.ve(dir, ["orch", "inject", "impostor", "--phase", "IMPLEMENT"]));
      const [unit] = await e.waitUnits(dir, (units) => units[0]?.status === "DONE" || units[0]?.status === "NEEDS_ATTENTION");
      // The refused calls recorded nothing: the run exited 0 and its phase went on as done.
      expect(unit?.status).toBe("DONE");
      const read = (name: string) => readFileSync(join(out, name), "utf8").trim();
      expect([read("wrong.code"), JSON.parse(read("wrong.json")).error.code]).toEqual(["1", "run_token_invalid"]);
      expect([read("other.code"), JSON.parse(read("other.json")).error.code]).toEqual(["1", "run_token_invalid"]);
      expect([read("none.code"), JSON.parse(read("none.json")).error.code]).toEqual(["1", "not_in_run"]);
      const runs = await runsOf(dir, "impostor");
      expect(runs.every((r) => r.agent_calls.length === 0 && r.summary === null)).toBe(true);

      // The run has ended: its own secret no longer speaks for it.
      const [runId, token] = read("identity").split(" ") as [string, string];
      expect(runs[0]?.id).toBe(runId);
      const before = JSON.stringify([await e.units(dir), await runsOf(dir, "impostor")]);
      const late = await run([VE, "agent", "ask", "Too late?", "--json"], { env: { VE_RUN_ID: runId, VE_RUN_TOKEN: token, VE_PROJECT_DIR: dir } });
      expect(late.code).toBe(1);
      expect(json<{ error: { code: string; message: string } }>(late).error).toMatchObject({ code: "run_not_open", message: expect.stringContaining("has ended") });
      const lateDone = await run([VE, "agent", "done", "late"], { env: { VE_RUN_ID: runId, VE_RUN_TOKEN: token, VE_PROJECT_DIR: dir } });
      expect(lateDone.code).toBe(1);
      expect(lateDone.stderr).toContain("has ended");
      expect(JSON.stringify([await e.units(dir), await runsOf(dir, "impostor")])).toBe(before);
    },
    ENGINE_TEST_MS,
  );

  test(
    "an agent that asked and then hangs: the daemon stops, and after a restart the unit waits on its question instead of rerunning",
    async () => {
      const { dir, script } = e.repo();
      await e.start(dir, script, { stuck: { IMPLEMENT: [sh("ve agent ask 'Proceed with the migration?'"), { hang: true }] } });
      expectOk(await e.ve(dir, ["orch", "inject", "stuck", "--phase", "IMPLEMENT"]));
      expect(await waitFor(async () => ((await runsOf(dir, "stuck"))[0]?.agent_calls.length ?? 0) > 0, 60_000, 50)).toBe(true);
      expectOk(await e.ve(dir, ["orch", "stop"]));
      expectOk(await e.ve(dir, ["orch", "start"]));
      const [unit] = await e.units(dir);
      expect(unit?.status).toBe("NEEDS_ATTENTION");
      expect(unit?.attention).toMatchObject({ kind: "question", question: "Proceed with the migration?" });
      expect((await runsOf(dir, "stuck")).map((r) => r.outcome)).toEqual(["question"]);
    },
    ENGINE_TEST_MS,
  );

  test("`ve agent ask` with an empty question or an empty --option is a usage error in its own terms (exit 2)", async () => {
    const dir = e.project();
    for (const [args, said] of [
      [["agent", "ask", "Which?", "--option", "yes", "--option", " "], "--option number 2 is empty"],
      [["agent", "ask", ""], "The question is empty"],
    ] as const) {
      const result = await run([VE, ...args], { env: { VE_RUN_ID: "r", VE_RUN_TOKEN: "t", VE_PROJECT_DIR: dir } });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(said);
      expect(result.stderr).not.toContain("options[");
    }
  });

  test("outside a run, `ve agent ask` and `ve agent done` say they work only inside one (exit 1)", async () => {
    const dir = e.project();
    for (const args of [["agent", "ask", "Anyone?"], ["agent", "done"]]) {
      const result = await run([VE, ...args], { env: { VE_RUN_ID: undefined, VE_RUN_TOKEN: undefined, VE_PROJECT_DIR: dir } });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("works only inside an agent run that ve started");
      expect(result.stdout).toBe("");
    }
  });
});
