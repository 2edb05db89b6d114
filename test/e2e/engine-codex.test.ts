// The codex backend end to end: dist/ve's daemon runs the REAL codex (the pinned
// node_modules/.bin/codex) against the scripted OpenAI mock (test/helpers/mock-openai.ts) in
// real git repositories. Hermetic: the daemon and every agent get a temporary HOME and
// CODEX_HOME; codex reaches the mock only through the `-c` overrides in backends.codex.args.
//
// One daemon per describe, its units injected at once in beforeAll and each test waiting on
// its own units: codex takes a second or two to start, and a daemon per case would multiply it.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  CODEX_BIN,
  type MockOpenAI,
  type MockRoute,
  MOCK_KEY_VARIABLE,
  assistantTexts,
  codexMockArgs,
  patchAddFile,
  reply,
  routeMentioning,
  startMockOpenAI,
  toolOutputs,
  userTexts,
} from "../helpers/mock-openai.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { type AgentDaemon, GIT_ENV, type UnitJson, expectOk, git, initRepo, startAgentDaemon } from "./engine-harness.ts";
import { waitFor } from "./harness.ts";

// The shared harness kills every daemon after each test; these daemons live for a describe.
const scratch = useTempDirs("ve-codex-e2e");
setDefaultTimeout(180_000);
const TEST_MS = 180_000;
const SETTLE_MS = 150_000;

interface RunJson {
  id: string;
  chunk: string;
  phase: string;
  backend: string;
  backend_version: string | null;
  session_id: string | null;
  pid: number | null;
  started_at: string;
  ended_at: string | null;
  outcome: string | null;
  reason: string | null;
  exit_code: number | null;
  turns: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
}

/** The requests of one unit's conversation: its prompt names its branch. */
function forChunk(chunk: string): string {
  return `on branch ve/${chunk}. `;
}

/** Variables of this test process that would point codex at a real account or config. */
const REAL_ACCOUNT: Record<string, undefined> = {
  OPENAI_API_KEY: undefined,
  OPENAI_BASE_URL: undefined,
  CODEX_API_KEY: undefined,
  CODEX_HOME: undefined,
};

interface Daemon extends AgentDaemon<RunJson> {
  mock: MockOpenAI;
  codexHome: string;
}

/** A repository, the mock with `routes`, and a daemon whose agents run the real codex against it. */
async function codexDaemon(routes: MockRoute[], options: { config?: Record<string, string>; codexPath?: string } = {}): Promise<Daemon> {
  const dir = join(scratch(), "repo");
  initRepo(dir);
  const mock = await startMockOpenAI(routes);
  const home = join(scratch(), "home");
  const codexHome = join(scratch(), "codex-home");
  mkdirSync(home, { recursive: true });
  mkdirSync(codexHome, { recursive: true });
  const env = { ...REAL_ACCOUNT, ...GIT_ENV, HOME: home, CODEX_HOME: codexHome, [MOCK_KEY_VARIABLE]: "mock-key" };
  const settings: Record<string, string> = {
    backend: "codex",
    "backends.codex.path": options.codexPath ?? CODEX_BIN,
    // One request retry and one stream retry: each failing model call costs codex seconds, not minutes.
    "backends.codex.args": JSON.stringify(codexMockArgs(mock)),
    max_agents: "3",
    silence_timeout_s: "120",
    backoff_base_s: "1",
    backoff_max_s: "2",
    ...options.config,
  };
  const daemon = await startAgentDaemon<RunJson>(dir, env, settings, SETTLE_MS, () => mock.stop());
  return { ...daemon, mock, codexHome };
}

const settled = (u: UnitJson) => u.status === "DONE" || u.status === "NEEDS_ATTENTION";

/** Session files in the real ~/.codex that mention this test's directory (there must be none). */
function realCodexSessionsOf(dir: string): string[] {
  const sessions = join(homedir(), ".codex", "sessions");
  if (!existsSync(sessions)) return [];
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".jsonl") && readFileSync(path, "utf8").includes(dir)) found.push(path);
    }
  };
  walk(sessions);
  return found;
}

describe("the codex backend, real codex against the mock API", () => {
  let d: Daemon;
  const DIAMOND = ["d-top", "d-left", "d-right", "d-bottom"];
  let realCodexHome: boolean;
  let resetAtMinuteEnd = 0;

  beforeAll(async () => {
    realCodexHome = existsSync(join(homedir(), ".codex"));
    // Codex shows a usage limit's reset to the minute; ve waits to the end of the minute it
    // shows. A reset inside the current minute keeps the wait under a minute, and the unit
    // waits while the others work.
    const now = Date.now();
    resetAtMinuteEnd = Math.floor(now / 60_000) * 60_000 + 60_000;
    d = await codexDaemon([
      routeMentioning("usage-limit", forChunk("usage-limit"), [reply.usageLimit(new Date(now)), reply.text("Back after the reset."), reply.text("Complete.")]),
      // A phase that writes a file with the shell tool and ends; COMPLETE resumes the thread.
      routeMentioning("writes-file", forChunk("writes-file"), [reply.shell("printf 'hello from codex\\n' > hello.txt"), reply.text("Wrote hello.txt."), reply.text("Checked: hello.txt is there.")]),
      // Each failing run costs codex four requests (one request retry times one stream retry).
      routeMentioning("api-errors", forChunk("api-errors"), [
        ...Array.from({ length: 4 }, () => reply.status(500)),
        ...Array.from({ length: 4 }, () => reply.status(529)),
        reply.text("Recovered."),
        reply.text("Complete."),
      ]),
      // ask_operator through the real `ve mcp`; the answered run resumes the thread.
      routeMentioning("asks", forChunk("asks"), [
        reply.mcp("ve", "ask_operator", { question: "Which database should I use?", options: ["postgres", "sqlite"] }),
        reply.text("I asked; waiting for the answer."),
        reply.text("Using sqlite as answered."),
        reply.text("Complete."),
      ]),
      // The first answer never ends; the test kills codex while it waits for it.
      routeMentioning("killed", forChunk("killed"), [reply.hang("Starting"), reply.text("Done after the crash."), reply.text("Complete.")]),
      ...DIAMOND.map((chunk) =>
        routeMentioning(chunk, forChunk(chunk), [
          // The bottom first reads what its blockers wrote: its worktree starts from main after they landed.
          ...(chunk === "d-bottom" ? [reply.shell("cat d-left.txt d-right.txt")] : []),
          reply.patch(patchAddFile(`${chunk}.txt`, `written by ${chunk}\n`)),
          reply.text(`${chunk} implemented.`),
          reply.text(`${chunk} complete.`),
        ]),
      ),
    ]);
    expectOk(await d.ve(["orch", "inject", "usage-limit", "writes-file", "api-errors", "killed", "asks", "--phase", "IMPLEMENT"]));
    expectOk(await d.ve(["orch", "inject", "d-top", "--phase", "IMPLEMENT"]));
    expectOk(await d.ve(["orch", "inject", "d-left", "d-right", "--phase", "IMPLEMENT", "--blocked-by", "d-top"]));
    expectOk(await d.ve(["orch", "inject", "d-bottom", "--phase", "IMPLEMENT", "--blocked-by", "d-left,d-right"]));
  }, TEST_MS);

  afterAll(async () => {
    await d?.close();
  });

  test("a phase that writes a file: committed on its branch, landed on main; COMPLETE resumed the thread with the first run's turns", async () => {
    const { unit, runs } = await d.unit("writes-file", settled);
    expect(unit.status).toBe("DONE");
    expect(readFileSync(join(d.dir, "hello.txt"), "utf8")).toBe("hello from codex\n");
    expect(git(d.dir, "log", "--format=%s", "--", "hello.txt").split("\n")).toContain("writes-file: IMPLEMENT");
    expect(git(d.dir, "log", "--format=%s", "main")).toContain("Land writes-file (ve)");
    expect(runs.map((r) => [r.phase, r.outcome, r.backend, r.backend_version])).toEqual([
      ["IMPLEMENT", "completed", "codex", "0.169.0"],
      ["COMPLETE", "completed", "codex", "0.169.0"],
    ]);
    // One thread across both runs: the second resumed the first (`codex exec resume`).
    expect(runs[0]!.session_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(runs[1]!.session_id).toBe(runs[0]!.session_id);
    const calls = d.mock.modelCalls().filter((r) => r.route === "writes-file");
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c.threadId === runs[0]!.session_id)).toBe(true);
    const complete = calls[2]!;
    expect(userTexts(complete).some((t) => t.includes("Phase IMPLEMENT"))).toBe(true);
    expect(userTexts(complete).some((t) => t.includes("Phase COMPLETE"))).toBe(true);
    expect(assistantTexts(complete)).toContain("Wrote hello.txt.");
    // Each run's own tokens (the mock's 1000 in / 50 out per model call), not the thread's totals.
    expect(runs.map((r) => [r.input_tokens, r.output_tokens, r.turns])).toEqual([
      [2000, 100, 1],
      [1000, 50, 1],
    ]);
    // The thread lives in the test's CODEX_HOME; nothing under the real ~/.codex.
    expect(realCodexSessionsOf(d.dir)).toEqual([]);
    expect(existsSync(join(homedir(), ".codex"))).toBe(realCodexHome);
    expect(existsSync(join(d.codexHome, "sessions"))).toBe(true);
  }, TEST_MS);

  test("500, then 529, each after codex's own retries: transient failures retried by ve, then the phase completes", async () => {
    const { unit, runs } = await d.unit("api-errors", settled);
    expect(unit.status).toBe("DONE");
    expect(runs.map((r) => r.outcome)).toEqual(["failed", "failed", "completed", "completed"]);
    expect(runs[0]!.reason).toContain("after codex's own retries");
    expect(runs[1]!.reason).toContain("529");
    // codex retried each failing request itself before giving up: four model calls per failed run.
    expect(d.mock.modelCalls().filter((r) => r.route === "api-errors")).toHaveLength(10);
    const tail = await d.ve(["orch", "tail", "api-errors", "--run", runs[0]!.id]);
    expect(tail.stdout).toContain("Reconnecting... 1/1");
  }, TEST_MS);

  test("ask_operator through ve mcp: the unit waits with the question and its options; the answer resumes the thread and the unit lands", async () => {
    const asked = await d.unit("asks", settled);
    expect(asked.unit.status).toBe("NEEDS_ATTENTION");
    const attention = asked.unit.attention as unknown as { kind: string; question?: string; options?: string[] };
    expect(attention).toMatchObject({ kind: "question", question: "Which database should I use?", options: ["postgres", "sqlite"] });
    expect(asked.runs.map((r) => r.outcome)).toEqual(["question"]);
    expectOk(await d.ve(["orch", "answer", "asks", "--option", "2"]));
    const { unit, runs } = await d.unit("asks", (u) => u.status === "DONE" || (u.status === "NEEDS_ATTENTION" && u.attention?.kind !== "question"));
    expect(unit.status).toBe("DONE");
    expect(runs.map((r) => r.outcome)).toEqual(["question", "completed", "completed"]);
    expect(new Set(runs.map((r) => r.session_id)).size).toBe(1);
    const calls = d.mock.modelCalls().filter((r) => r.route === "asks");
    // The answered run's request carries the ask, its result and the operator's answer in one thread.
    const answered = calls[2]!;
    expect(JSON.stringify(answered.body.input)).toContain("Which database should I use?");
    expect(userTexts(answered).join("\n")).toContain("sqlite");
    expect(assistantTexts(answered)).toContain("I asked; waiting for the answer.");
  }, TEST_MS);

  test("codex killed mid-stream: the run failed as a crash (not success); the retry resumes the thread and completes", async () => {
    await d.mock.waitForModelCalls(1, SETTLE_MS);
    const found: { pid: number | null } = { pid: null };
    await waitFor(
      async () => {
        const streaming = d.mock.modelCalls().some((r) => r.route === "killed");
        found.pid = streaming ? ((await d.runs("killed"))[0]?.pid ?? null) : null;
        return found.pid !== null;
      },
      SETTLE_MS,
      100,
    );
    expect(found.pid).not.toBeNull();
    process.kill(-(found.pid as number), "SIGKILL");
    const { unit, runs } = await d.unit("killed", settled);
    expect(runs[0]!.outcome).toBe("failed");
    expect(runs[0]!.reason).toContain("ended by a signal before its turn ended");
    expect(unit.status).toBe("DONE");
    expect(runs.slice(1).map((r) => r.outcome)).toEqual(["completed", "completed"]);
    expect(new Set(runs.map((r) => r.session_id)).size).toBe(1);
  }, TEST_MS);

  test("MUST SHOW: a diamond of four units, real codex writing each unit's file with apply_patch, lands on main in dependency order", async () => {
    for (const chunk of DIAMOND) await d.unit(chunk, settled);
    const units = (await d.units()).filter((u) => DIAMOND.includes(u.chunk));
    expect(units.map((u) => [u.chunk, u.status])).toEqual(DIAMOND.map((c) => [c, "DONE"]));
    for (const chunk of DIAMOND) expect(readFileSync(join(d.dir, `${chunk}.txt`), "utf8")).toBe(`written by ${chunk}\n`);
    const lands = git(d.dir, "log", "--merges", "--format=%s", "main").split("\n").filter((s) => s.startsWith("Land d-"));
    expect(lands).toHaveLength(4);
    expect(lands.at(-1)).toBe("Land d-top (ve)");
    expect(lands[0]).toBe("Land d-bottom (ve)");
    // d-bottom's worktree started from main after its blockers landed: their files were there.
    const bottomCalls = d.mock.modelCalls().filter((r) => r.route === "d-bottom");
    expect(toolOutputs(bottomCalls[1]!).map((o) => o.output).join("\n")).toContain("written by d-left\nwritten by d-right\n");
    expect(git(d.dir, "status", "--porcelain")).toBe("");
    expect(git(d.dir, "branch", "--list", "ve/d-*")).toBe("");
    const runs = (await d.runs()).filter((r) => DIAMOND.includes(r.chunk));
    expect(runs).toHaveLength(8);
    expect(runs.every((r) => r.backend === "codex" && r.backend_version === "0.169.0" && r.outcome === "completed")).toBe(true);
    // `ve orch runs` shows backend and version, outcome, duration, turns and tokens.
    const table = (await d.ve(["orch", "runs", "d-top"])).stdout;
    expect(table).toMatch(/BACKEND\s+VERSION\s+OUTCOME\s+TIME\s+TURNS\s+COST/);
    expect(table).toMatch(/codex\s+0\.169\.0\s+completed\s+\S+\s+1\s+2000\+100 tok/);
    expect(d.mock.unscripted).toEqual([]);
  }, TEST_MS);
  test("a usage limit: the run says limit, the unit waits until the reset codex reported, then goes on", async () => {
    const first = await d.unit("usage-limit", (_u, runs) => runs[0]?.outcome != null);
    expect(first.runs[0]!.outcome).toBe("limit");
    expect(first.runs[0]!.reason).toContain("usage limit");
    const { unit, runs } = await d.unit("usage-limit", settled);
    expect(unit.status).toBe("DONE");
    expect(runs.map((r) => r.outcome)).toEqual(["limit", "completed", "completed"]);
    // The second run started no earlier than the reset.
    expect(Date.parse(runs[1]!.started_at)).toBeGreaterThanOrEqual(resetAtMinuteEnd);
  }, TEST_MS);
});

describe("the codex backend, exit codes", () => {
  let d: Daemon;

  beforeAll(async () => {
    // A wrapper that runs the real codex and always exits 0, as codex does after a failed
    // turn in documented cases (openai/codex#37717): the outcome must come from the events.
    const bin = join(scratch(), "codex-exit-0");
    writeFileSync(bin, `#!/bin/sh\n"${CODEX_BIN}" "$@"\nexit 0\n`);
    chmodSync(bin, 0o755);
    d = await codexDaemon(
      [
        routeMentioning("turn-failed", forChunk("turn-failed"), [reply.failed("too long", "context_length_exceeded")]),
      ],
      // The project's default stays the command backend: `inject --backend codex` picks codex.
      { codexPath: bin, config: { "retries.failed": "0", backend: "command" } },
    );
    expectOk(await d.ve(["orch", "inject", "turn-failed", "--phase", "IMPLEMENT", "--backend", "codex"]));
  }, TEST_MS);

  afterAll(async () => {
    await d?.close();
  });

  test("a failed turn with exit status 0: the run failed, never completed", async () => {
    const { unit, runs } = await d.unit("turn-failed", settled);
    expect(runs[0]!.backend).toBe("codex");
    expect(runs[0]!.exit_code).toBe(0);
    expect(runs[0]!.outcome).toBe("failed");
    expect(runs[0]!.reason).toContain("context window");
    expect(unit.status).toBe("NEEDS_ATTENTION");
    expect(unit.attention?.kind).toBe("error");
  }, TEST_MS);
});
