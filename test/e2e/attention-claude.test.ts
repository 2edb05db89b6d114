// The answer path with the REAL claude (node_modules/.bin/claude) against the scripted mock
// Anthropic API: the model asks through Claude's own AskUserQuestion tool, the unit waits in
// `ve orch attention` with the question and its options, `ve orch answer --option` makes it
// READY, and the next run resumes the same session: the mock sees the earlier turns and the
// answer in one conversation, and the unit lands. When the session's transcript is gone, the
// answered run is a new conversation told the question and the answer. Hermetic: a temporary
// HOME and CLAUDE_CONFIG_DIR; the mock is the only server claude talks to.
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { type MockAnthropic, type RecordedRequest, CLAUDE_REAL_ACCOUNT, claudeEnv, startMockAnthropic, userText } from "../helpers/mock-anthropic.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { GIT_ENV, type UnitJson, endProject, expectOk, initRepo } from "./engine-harness.ts";
import { VE, json, run, waitFor } from "./harness.ts";

const CLAUDE = resolve(import.meta.dir, "../../node_modules/.bin/claude");
const scratch = useTempDirs("ve-attention-claude");
setDefaultTimeout(180_000);
const SETTLE_MS = 150_000;

const QUESTION = "Which database should the cache use?";
let mock: MockAnthropic | undefined;
let dir = "";
const ended: (() => Promise<void>)[] = [];

afterAll(async () => {
  if (dir) await endProject(dir, GIT_ENV);
  await mock?.stop();
  for (const end of ended.splice(0)) await end();
});

const ASK = {
  tool: {
    name: "AskUserQuestion",
    input: { questions: [{ question: QUESTION, header: "Database", multiSelect: false, options: [{ label: "sqlite", description: "a file" }, { label: "postgres", description: "a server" }] }] },
  },
};

test("AskUserQuestion: the unit waits with the question and options; answer --option resumes the same session with the answer; it lands", async () => {
  dir = join(scratch(), "repo");
  initRepo(dir);
  const worktree = join(dir, ".ve", "worktrees", "cache");
  mock = await startMockAnthropic([
    {
      match: "on branch ve/cache. ",
      turns: [
        ASK,
        { text: "I asked the operator; ending my turn." },
        // The resumed run: the model writes what the operator chose.
        (request: RecordedRequest) => ({ tool: { name: "Write", input: { file_path: join(worktree, "db.txt"), content: `${userText(request).includes("postgres") ? "postgres" : "unknown"}\n` } } }),
        { text: "Wrote db.txt." },
        { text: "Checked against the goal." },
      ],
    },
  ]);
  const { env: base } = claudeEnv(mock, scratch());
  const env = { ...CLAUDE_REAL_ACCOUNT, ...GIT_ENV, ...base };
  const ve = (args: string[]) => run([VE, ...args, "--project-dir", dir], { env });
  expectOk(await ve(["orch", "start"]));
  for (const [key, value] of Object.entries({ backend: "claude", "backends.claude.path": CLAUDE, silence_timeout_s: "120" })) {
    expectOk(await ve(["orch", "config", key, value]));
  }
  expectOk(await ve(["orch", "inject", "cache", "--phase", "IMPLEMENT"]));
  const unit = async () => json<{ work_units: UnitJson[] }>(await ve(["orch", "ps", "--json"])).work_units[0];
  expect(await waitFor(async () => ["NEEDS_ATTENTION", "DONE"].includes((await unit())?.status ?? ""), SETTLE_MS, 200)).toBe(true);

  const queue = json<{ attention: { chunk: string; kind: string; question: string; options: string[]; run_id: string; command: string }[] }>(
    expectOk(await ve(["orch", "attention", "--json"])),
  ).attention;
  expect(queue.map((a) => [a.chunk, a.kind, a.question, a.options, a.command])).toEqual([
    ["cache", "question", QUESTION, ["sqlite", "postgres"], "ve orch answer cache --option N"],
  ]);
  const shown = expectOk(await ve(["orch", "attention"])).stdout;
  expect(shown).toContain(`${QUESTION}\n    1. sqlite\n    2. postgres`);

  expectOk(await ve(["orch", "answer", "cache", "--option", "2"]));
  expect(await waitFor(async () => (await unit())?.status === "DONE", SETTLE_MS, 200)).toBe(true);
  expect(readFileSync(join(dir, "db.txt"), "utf8")).toBe("postgres\n");

  const runs = json<{ runs: { phase: string; outcome: string; session_id: string | null }[] }>(expectOk(await ve(["orch", "runs", "cache", "--json"]))).runs;
  expect(runs.map((r) => [r.phase, r.outcome])).toEqual([
    ["IMPLEMENT", "question"],
    ["IMPLEMENT", "completed"],
    ["COMPLETE", "completed"],
  ]);
  // One conversation: the answered run resumed the session that asked.
  expect(runs[1]?.session_id).toBe(runs[0]?.session_id ?? "");
  const resumed = mock.messages().find((r) => r.turn === 2) as RecordedRequest;
  expect(resumed).toBeDefined();
  const messages = JSON.stringify(resumed.body.messages);
  expect(messages).toContain("AskUserQuestion");
  expect(messages).toContain("I asked the operator; ending my turn.");
  expect(userText(resumed)).toContain("The operator's answer:\n\npostgres");
  expect(mock.unscripted).toEqual([]);
});

test("a session whose transcript is gone: the answered run is a new conversation told the question and the answer; it lands", async () => {
  const repo = join(scratch(), "repo");
  initRepo(repo);
  const worktree = join(repo, ".ve", "worktrees", "store");
  const exchange = `You asked:\n> ${QUESTION}\nThe operator answered:\n> postgres`;
  const server = await startMockAnthropic([
    // The new session after the answer (and the COMPLETE run that resumes it): its prompt has the exchange.
    {
      match: exchange,
      turns: [
        (request: RecordedRequest) => ({ tool: { name: "Write", input: { file_path: join(worktree, "db.txt"), content: `${userText(request).includes(exchange) ? "postgres" : "unknown"}\n` } } }),
        { text: "Wrote db.txt." },
        { text: "Checked against the goal." },
      ],
    },
    { match: "on branch ve/store. ", turns: [ASK, { text: "I asked the operator; ending my turn." }] },
  ]);
  const { env: base, configDir } = claudeEnv(server, scratch());
  const env = { ...CLAUDE_REAL_ACCOUNT, ...GIT_ENV, ...base };
  ended.push(async () => {
    await endProject(repo, env);
    await server.stop();
  });
  const ve = (args: string[]) => run([VE, ...args, "--project-dir", repo], { env });
  expectOk(await ve(["orch", "start"]));
  for (const [key, value] of Object.entries({ backend: "claude", "backends.claude.path": CLAUDE, silence_timeout_s: "120" })) {
    expectOk(await ve(["orch", "config", key, value]));
  }
  expectOk(await ve(["orch", "inject", "store", "--phase", "IMPLEMENT"]));
  const unit = async () => json<{ work_units: UnitJson[] }>(await ve(["orch", "ps", "--json"])).work_units[0];
  expect(await waitFor(async () => ["NEEDS_ATTENTION", "DONE"].includes((await unit())?.status ?? ""), SETTLE_MS, 200)).toBe(true);
  expect((await unit())?.attention?.kind).toBe("question");

  const runsOf = async () => json<{ runs: { phase: string; outcome: string; session_id: string | null }[] }>(expectOk(await ve(["orch", "runs", "store", "--json"]))).runs;
  const session = (await runsOf())[0]?.session_id ?? "";
  const transcripts = [...new Bun.Glob(`projects/*/${session}.jsonl`).scanSync({ cwd: configDir })];
  expect(transcripts).toHaveLength(1);
  for (const file of transcripts) rmSync(join(configDir, file));

  expectOk(await ve(["orch", "answer", "store", "--option", "2"]));
  expect(await waitFor(async () => (await unit())?.status === "DONE", SETTLE_MS, 200)).toBe(true);
  expect(readFileSync(join(repo, "db.txt"), "utf8")).toBe("postgres\n");
  expect((await runsOf()).map((r) => [r.phase, r.outcome])).toEqual([
    ["IMPLEMENT", "question"],
    ["IMPLEMENT", "completed"],
    ["COMPLETE", "completed"],
  ]);
  // The answered run's first request: a new conversation (nothing of the asking one) that has the exchange.
  const fresh = server.messages().find((r) => userText(r).includes(exchange)) as RecordedRequest;
  expect(fresh).toBeDefined();
  expect(fresh.turn).toBe(0);
  expect(JSON.stringify(fresh.body.messages)).not.toContain("I asked the operator; ending my turn.");
  expect(userText(fresh)).toContain("The operator's answer:\n\npostgres");
  expect(server.unscripted).toEqual([]);
});
