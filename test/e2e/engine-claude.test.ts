// The claude backend end to end: dist/ve's daemon runs the REAL claude (the pinned
// node_modules/.bin/claude) against the scripted mock Anthropic API (test/helpers/
// mock-anthropic.ts) in real git repositories. Hermetic: the daemon and every agent get a
// temporary HOME and CLAUDE_CONFIG_DIR; the mock is the only server claude talks to.
//
// One daemon per describe, its units injected at once in beforeAll and each test waiting on
// its own units: claude takes seconds to start, and a daemon per case would multiply that.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { MOCK_SUBSCRIPTION_ENV, type MockAnthropic, type RecordedRequest, CLAUDE_REAL_ACCOUNT, claudeEnv, startMockAnthropic, userText } from "../helpers/mock-anthropic.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { type AgentDaemon, GIT_ENV, type UnitJson, expectOk, git, initRepo, startAgentDaemon } from "./engine-harness.ts";
import { waitFor } from "./harness.ts";

const CLAUDE = resolve(import.meta.dir, "../../node_modules/.bin/claude");
// The shared harness kills every daemon after each test; these daemons live for a describe.
const scratch = useTempDirs("ve-claude-e2e");
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
  outcome: string | null;
  reason: string | null;
  exit_code: number | null;
  cost_usd: number | null;
  turns: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
}

/** The requests of one unit's conversation: its prompt names its branch. */
function forChunk(chunk: string): string {
  return `on branch ve/${chunk}. `;
}


interface Daemon extends AgentDaemon<RunJson> {
  mock: MockAnthropic;
  env: Record<string, string | undefined>;
  configDir: string;
}

/** A repository, the mock with `script`, and a daemon whose agents run the real claude against it. */
async function claudeDaemon(script: Parameters<typeof startMockAnthropic>[0], options: { extraEnv?: Record<string, string>; config?: Record<string, string>; claudePath?: string } = {}): Promise<Daemon> {
  const dir = join(scratch(), "repo");
  initRepo(dir);
  const mock = await startMockAnthropic(script);
  const { env: base, configDir } = claudeEnv(mock, scratch(), options.extraEnv);
  const env = { ...CLAUDE_REAL_ACCOUNT, ...GIT_ENV, ...base };
  const settings: Record<string, string> = {
    backend: "claude",
    "backends.claude.path": options.claudePath ?? CLAUDE,
    max_agents: "3",
    silence_timeout_s: "120",
    backoff_base_s: "1",
    backoff_max_s: "2",
    ...options.config,
  };
  const daemon = await startAgentDaemon<RunJson>(dir, env, settings, SETTLE_MS, () => mock.stop());
  return { ...daemon, mock, env, configDir };
}

const settled = (u: UnitJson) => u.status === "DONE" || u.status === "NEEDS_ATTENTION";

/** Names in the real ~/.claude/projects that are this test's temporary directories. */
function realClaudeProjectsOf(dir: string): string[] {
  const projects = join(homedir(), ".claude", "projects");
  if (!existsSync(projects)) return [];
  const encoded = dir.replace(/[^a-zA-Z0-9]/g, "-");
  return readdirSync(projects).filter((name) => name.includes(encoded));
}

describe("the claude backend, real claude against the mock API", () => {
  let d: Daemon;
  const wt = (dir: string, chunk: string) => join(dir, ".ve", "worktrees", chunk);
  const OUTSIDE = `/tmp/ve-claude-e2e-outside-${process.pid}.txt`;
  const DIAMOND = ["d-top", "d-left", "d-right", "d-bottom"];
  let realClaudeJson: boolean;

  beforeAll(async () => {
    realClaudeJson = existsSync(join(homedir(), ".claude.json"));
    // The repository's path is known only once it exists: the scripts' tool inputs use it through `dir()`.
    let dir = "";
    const writeTurn = (chunk: string, file: string, content: string) => () => ({ tool: { name: "Write", input: { file_path: join(wt(dir, chunk), file), content } } });
    d = await claudeDaemon([
      // A phase that writes a file and ends; COMPLETE resumes the same session.
      { match: forChunk("writes-file"), turns: [writeTurn("writes-file", "hello.txt", "hello from claude\n"), { text: "Wrote hello.txt." }, { text: "Checked: hello.txt is there." }] },
      // claude's own retries (CLAUDE_CODE_MAX_RETRIES=2: three requests per run), then ours.
      { match: forChunk("api-errors"), turns: [[{ status: 529 }, { status: 529 }, { status: 529 }, { status: 500 }, { status: 500 }, { status: 500 }, { text: "Recovered." }], { text: "Complete." }] },
      { match: forChunk("denied"), turns: [{ tool: { name: "Write", input: { file_path: OUTSIDE, content: "should never exist\n" } } }, { text: "I could not write it." }] },
      // Whether claude kept the half-streamed answer in its transcript decides the retry's turn number.
      { match: forChunk("killed"), turns: [[{ hang: true, text: "Starting" }, { text: "Done after the crash." }], { text: "Done." }, { text: "Complete." }] },
      ...DIAMOND.map((chunk) => ({
        match: forChunk(chunk),
        turns: [writeTurn(chunk, `${chunk}.txt`, `written by ${chunk}\n`), { text: `${chunk} implemented.` }, { text: `${chunk} complete.` }],
      })),
    ]);
    dir = d.dir;
    expectOk(await d.ve(["orch", "inject", "writes-file", "api-errors", "denied", "killed", "--phase", "IMPLEMENT"]));
    expectOk(await d.ve(["orch", "inject", "d-top", "--phase", "IMPLEMENT"]));
    expectOk(await d.ve(["orch", "inject", "d-left", "d-right", "--phase", "IMPLEMENT", "--blocked-by", "d-top"]));
    expectOk(await d.ve(["orch", "inject", "d-bottom", "--phase", "IMPLEMENT", "--blocked-by", "d-left,d-right"]));
  }, TEST_MS);

  afterAll(async () => {
    await d?.close();
  });

  test("a phase that writes a file: committed on its branch, landed on main; COMPLETE resumed the session with the first run's turns", async () => {
    const { unit, runs } = await d.unit("writes-file", settled);
    expect(unit.status).toBe("DONE");
    expect(readFileSync(join(d.dir, "hello.txt"), "utf8")).toBe("hello from claude\n");
    const log = git(d.dir, "log", "--format=%s", "main");
    expect(log).toContain("writes-file: IMPLEMENT");
    expect(log).toContain("Land writes-file (ve)");
    expect(git(d.dir, "log", "--format=%s", "--", "hello.txt").split("\n")).toContain("writes-file: IMPLEMENT");
    expect(runs.map((r) => [r.phase, r.outcome, r.backend, r.backend_version])).toEqual([
      ["IMPLEMENT", "completed", "claude", "2.1.328"],
      ["COMPLETE", "completed", "claude", "2.1.328"],
    ]);
    // One session across both runs: the second resumed the first.
    expect(runs[0]!.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(runs[1]!.session_id).toBe(runs[0]!.session_id);
    const requests = d.mock.messages().filter((r) => r.conversation === 0);
    const complete = requests.find((r) => r.turn === 2) as RecordedRequest;
    expect(complete).toBeDefined();
    const roles = (complete.body.messages as { role: string }[]).filter((m) => m.role !== "system").map((m) => m.role);
    expect(roles).toEqual(["user", "assistant", "user", "assistant", "user"]);
    expect(userText(complete)).toContain("Phase IMPLEMENT: build `writes-file`");
    expect(userText(complete)).toContain("Phase COMPLETE");
    expect(JSON.stringify(complete.body.messages)).toContain("Wrote hello.txt.");
    for (const run of runs) {
      expect(run.turns).toBeGreaterThan(0);
      expect(run.cost_usd).toBeGreaterThan(0);
      expect(run.input_tokens).toBeGreaterThan(0);
      expect(run.output_tokens).toBeGreaterThan(0);
    }
    // claude started ve's MCP server with the run's identity and offered no worktree tools of its own.
    const raw = (await d.ve(["orch", "tail", "writes-file", "--raw", "--run", runs[0]!.id])).stdout;
    const init = JSON.parse(raw.split("\n").find((l) => l.includes('"subtype":"init"')) as string);
    expect(init.mcp_servers).toContainEqual(expect.objectContaining({ name: "ve", status: "connected" }));
    expect(init.tools).not.toContain("EnterWorktree");
    expect(init.tools).not.toContain("ExitWorktree");
    expect(init.permissionMode).toBe("acceptEdits");
    // ve's tools are offered from the run's first request, not deferred behind claude's tool
    // search (where a model spends a turn finding them, or never calls them).
    const first = requests.find((r) => r.turn === 1) as RecordedRequest;
    const offered = (first.body.tools as { name: string; defer_loading?: boolean }[]).filter((t) => t.name.startsWith("mcp__ve__"));
    expect(offered.map((t) => t.name)).toContain("mcp__ve__ask_operator");
    expect(offered.map((t) => t.name)).toContain("mcp__ve__report_done");
    expect(offered.filter((t) => t.defer_loading === true)).toEqual([]);
    // The session lives in the test's CLAUDE_CONFIG_DIR, nothing in the real ~/.claude.
    const sessions = readdirSync(join(d.configDir, "projects")).flatMap((p) => readdirSync(join(d.configDir, "projects", p)));
    expect(sessions).toContain(`${runs[0]!.session_id}.jsonl`);
    expect(realClaudeProjectsOf(d.dir)).toEqual([]);
    expect(existsSync(join(homedir(), ".claude.json"))).toBe(realClaudeJson);
  }, TEST_MS);

  test("529, then 500, each after claude's own retries: transient failures retried by ve, then the phase completes", async () => {
    const { unit, runs } = await d.unit("api-errors", settled);
    expect(unit.status).toBe("DONE");
    expect(runs.map((r) => r.outcome)).toEqual(["failed", "failed", "completed", "completed"]);
    expect(runs[0]!.reason).toContain("(529)");
    expect(runs[1]!.reason).toContain("(500)");
    // claude retried each failing request twice itself before giving up.
    const turn0 = d.mock.messages().filter((r) => r.conversation === 1 && r.turn === 0);
    expect(turn0).toHaveLength(7);
    const tail = await d.ve(["orch", "tail", "api-errors", "--run", runs[0]!.id]);
    expect(tail.stdout).toContain("API error 529 (overloaded): retry 1/2");
  }, TEST_MS);

  test("a Write outside the worktree: NEEDS_ATTENTION permission naming the tool and its input; nothing written", async () => {
    const { unit, runs } = await d.unit("denied", settled);
    expect(unit.status).toBe("NEEDS_ATTENTION");
    expect(unit.attention?.kind).toBe("permission");
    expect(unit.attention?.reason).toContain("Write");
    expect(unit.attention?.reason).toContain(OUTSIDE);
    expect(existsSync(OUTSIDE)).toBe(false);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.outcome).toBe("failed");
    // claude itself exited 0 and its result said success.
    expect(runs[0]!.exit_code).toBe(0);
  }, TEST_MS);

  test("claude killed mid-stream: the run failed without a result (not success); the retry resumes and completes", async () => {
    // The mock holds the first answer open; kill claude's process group once it is waiting.
    const found: { pid: number | null } = { pid: null };
    await waitFor(
      async () => {
        const streaming = d.mock.messages().some((r) => r.conversation === 3);
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
    expect(runs[0]!.reason).toContain("ended by a signal without a result");
    expect(unit.status).toBe("DONE");
    expect(runs.slice(1).map((r) => r.outcome)).toEqual(["completed", "completed"]);
  }, TEST_MS);

  test("MUST SHOW: a diamond of four units, real claude writing each unit's file, lands on main in dependency order", async () => {
    for (const chunk of DIAMOND) await d.unit(chunk, settled);
    const units = (await d.units()).filter((u) => DIAMOND.includes(u.chunk));
    expect(units.map((u) => [u.chunk, u.status])).toEqual(DIAMOND.map((c) => [c, "DONE"]));
    for (const chunk of DIAMOND) expect(readFileSync(join(d.dir, `${chunk}.txt`), "utf8")).toBe(`written by ${chunk}\n`);
    const lands = git(d.dir, "log", "--merges", "--format=%s", "main").split("\n").filter((s) => s.startsWith("Land d-"));
    expect(lands).toHaveLength(4);
    expect(lands.at(-1)).toBe("Land d-top (ve)");
    expect(lands[0]).toBe("Land d-bottom (ve)");
    // d-bottom started from main after its blockers landed: its first request saw their files.
    const bottom = d.mock.messages().find((r) => r.conversation === 7 && r.turn === 0) as RecordedRequest;
    expect(userText(bottom)).toContain("Land d-left (ve)");
    expect(userText(bottom)).toContain("Land d-right (ve)");
    expect(git(d.dir, "status", "--porcelain")).toBe("");
    expect(git(d.dir, "branch", "--list", "ve/d-*")).toBe("");
    const runs = (await d.runs()).filter((r) => DIAMOND.includes(r.chunk));
    expect(runs.every((r) => r.backend === "claude" && r.backend_version === "2.1.328" && r.outcome === "completed")).toBe(true);
    expect(runs).toHaveLength(8);
    // `ve orch runs` shows backend and version, outcome, duration, turns and cost.
    const table = (await d.ve(["orch", "runs", "d-top"])).stdout;
    expect(table).toMatch(/BACKEND\s+VERSION\s+OUTCOME\s+TIME\s+TURNS\s+COST/);
    expect(table).toMatch(/claude\s+2\.1\.328\s+completed\s+(\d+m )?\d+s\s+2\s+\$0\.\d{4}/);
    expect(d.mock.unscripted).toEqual([]);
  }, TEST_MS);
});

describe("the claude backend, limits and exit codes", () => {
  let d: Daemon;
  let resetsAt = 0;

  beforeAll(async () => {
    // A wrapper that runs the real claude and always exits 0, as claude did for API errors in
    // 2.1.233 (anthropics/claude-code#79500): the outcome must come from the result line.
    const bin = join(scratch(), "claude-exit-0");
    writeFileSync(bin, `#!/bin/sh\n"${CLAUDE}" "$@"\nexit 0\n`);
    chmodSync(bin, 0o755);
    resetsAt = Math.floor(Date.now() / 1000) + 8;
    d = await claudeDaemon(
      [
        { match: forChunk("usage-limit"), turns: [[{ usageLimit: { resetsAt } }, { text: "Back after the reset." }], { text: "Complete." }] },
        { match: forChunk("is-error"), turns: [{ status: 400, message: "messages: this request is malformed" }] },
      ],
      // A subscriber's claude reports when its usage limit resets.
      { extraEnv: { ...MOCK_SUBSCRIPTION_ENV }, claudePath: bin, config: { "retries.failed": "0" } },
    );
    expectOk(await d.ve(["orch", "inject", "usage-limit", "is-error", "--phase", "IMPLEMENT"]));
  }, TEST_MS);

  afterAll(async () => {
    await d?.close();
  });

  test("a usage limit: the run says limit, the unit waits until the reset claude reported, then goes on", async () => {
    const first = await d.unit("usage-limit", (_u, runs) => runs[0]?.outcome != null);
    expect(first.runs[0]!.outcome).toBe("limit");
    expect(first.runs[0]!.reason).toContain("limit");
    const { unit, runs } = await d.unit("usage-limit", settled);
    expect(unit.status).toBe("DONE");
    expect(runs.map((r) => r.outcome)).toEqual(["limit", "completed", "completed"]);
    // The second run started no earlier than the reset (second resolution of the header).
    const requests = d.mock.messages().filter((r) => r.conversation === 0 && r.turn === 0);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.receivedAt).toBeGreaterThanOrEqual(resetsAt * 1000 - 1000);
  }, TEST_MS);

  test("is_error: true with exit status 0: the run failed, never completed", async () => {
    const { unit, runs } = await d.unit("is-error", settled);
    expect(runs[0]!.exit_code).toBe(0);
    expect(runs[0]!.outcome).toBe("failed");
    expect(runs[0]!.reason).toContain("400");
    expect(unit.status).toBe("NEEDS_ATTENTION");
    expect(unit.attention?.kind).toBe("error");
  }, TEST_MS);
});
