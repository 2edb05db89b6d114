// The codex backend's reader over lines the REAL codex 0.169.0 printed against the OpenAI mock
// (recorded by test/fixtures/codex/record.ts into test/fixtures/codex/, with the command line
// launch() builds), and its launch: the command line, the session (resumed only when codex
// kept it), stdin closed, the sandbox, the version check.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentEvent, RunContext, RunVerdict } from "../../src/agents/backend.ts";
import { CodexReader, MIN_CODEX_VERSION, PROMPT_ARG_MAX_BYTES, type TokenTotals, classify, codexBackend, parseCodexReset, threadTotalsBefore } from "../../src/agents/codex.ts";
import { requireMinVersion } from "../../src/agents/executables.ts";
import { VeError } from "../../src/errors.ts";
import { CODEX_BIN } from "../helpers/mock-openai.ts";
import { useTempDirs } from "../helpers/temp.ts";

const FIXTURES = `${import.meta.dir}/../fixtures/codex`;
const tempDir = useTempDirs("ve-codex");

/** Feeds a recorded case through a fresh reader; `exitCode` is what the process ended with. */
function replay(name: string, exitCode: number | null, baseline: TokenTotals | null = null): { events: AgentEvent[]; verdict: RunVerdict } {
  const reader = new CodexReader(baseline, "0.169.0");
  const events: AgentEvent[] = [];
  for (const line of readFileSync(join(FIXTURES, `${name}.jsonl`), "utf8").split("\n")) if (line) events.push(...reader.line("stdout", line));
  let stderr = "";
  try {
    stderr = readFileSync(join(FIXTURES, `${name}.stderr`), "utf8");
  } catch {}
  for (const line of stderr.split("\n")) if (line) events.push(...reader.line("stderr", line));
  return { events, verdict: reader.finish(exitCode) };
}

const texts = (events: AgentEvent[], type: "text" | "progress") => events.filter((e) => e.type === type).map((e) => (e as { text: string }).text);

describe("the codex reader, over recorded lines of the real CLI", () => {
  test("a shell command, an apply_patch and an answer: init with the thread and version, the tools, completed with tokens", () => {
    const { events, verdict } = replay("write-success", 0);
    const init = events.find((e) => e.type === "init") as { session_id: string; version?: string };
    expect(init.session_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(init.version).toBe("0.169.0");
    expect(events.filter((e) => e.type === "tool_call").map((e) => (e as { name: string }).name)).toEqual(["shell", "apply_patch"]);
    expect(events.filter((e) => e.type === "tool_result").map((e) => (e as { ok: boolean }).ok)).toEqual([true, true]);
    expect(texts(events, "text")).toEqual(["Wrote hello.txt and patched.txt."]);
    expect(events).toContainEqual({ type: "usage", input_tokens: 3000, output_tokens: 150, cached_input_tokens: 600 });
    expect(verdict).toMatchObject({ outcome: "completed", input_tokens: 3000, output_tokens: 150, turns: 1 });
  });

  test("a resumed thread: codex reports the thread's totals, the run gets its own share", () => {
    const before = { input_tokens: 1000, cached_input_tokens: 200, output_tokens: 50 };
    expect(replay("resumed", 0, before).verdict).toMatchObject({ outcome: "completed", input_tokens: 1500, output_tokens: 70 });
    // Without the session file's totals the run shows the thread's.
    expect(replay("resumed", 0).verdict).toMatchObject({ input_tokens: 2500, output_tokens: 120 });
  });

  test("500, 529 and a broken stream after codex's own retries: the retry notices are progress, the run a transient failure", () => {
    for (const name of ["server-error-500", "overloaded-529", "stream-failed"]) {
      const { events, verdict } = replay(name, 1);
      expect(texts(events, "progress").some((t) => t.startsWith("Reconnecting... 1/1"))).toBe(true);
      expect(verdict).toMatchObject({ outcome: "failed", transient: true });
      expect(verdict.reason).toContain("after codex's own retries");
    }
  });

  test("a turn that completed after codex retried the API by itself: the retry notice is progress, the run completed", () => {
    const { events, verdict } = replay("recovered-after-retry", 0);
    expect(texts(events, "progress").some((t) => t.startsWith("Reconnecting... 1/1"))).toBe(true);
    expect(verdict).toMatchObject({ outcome: "completed", input_tokens: 1000, output_tokens: 50 });
  });

  test("the exit code decides nothing: a failed turn with exit 0 is a failure, a completed one with exit 1 a success", () => {
    expect(replay("server-error-500", 0).verdict).toMatchObject({ outcome: "failed", transient: true });
    expect(replay("context-window", 0).verdict.outcome).toBe("failed");
    expect(replay("write-success", 1).verdict.outcome).toBe("completed");
  });

  test("an invalid key (401) and a full context window are failures that retrying does not fix", () => {
    for (const [name, words] of [["invalid-key-401", "401 Unauthorized"], ["context-window", "context window"]] as const) {
      const { verdict } = replay(name, 1);
      expect(verdict.outcome).toBe("failed");
      expect(verdict.transient).toBeUndefined();
      expect(verdict.reason).toContain(words);
    }
  });

  test("a usage limit: outcome limit with the reset codex named (today's time, or a later day's date), as the end of that minute", () => {
    const today = replay("usage-limit-today", 1).verdict;
    expect(today.outcome).toBe("limit");
    const todayAt = new Date(today.reset_at as string);
    expect([todayAt.getHours(), todayAt.getMinutes(), todayAt.getSeconds()]).toEqual([2, 50, 0]);
    expect(todayAt.getDate()).toBe(new Date().getDate());
    const later = replay("usage-limit-later", 1).verdict;
    expect(later.outcome).toBe("limit");
    const laterAt = new Date(later.reset_at as string);
    expect([laterAt.getFullYear(), laterAt.getMonth(), laterAt.getDate(), laterAt.getHours(), laterAt.getMinutes()]).toEqual([2026, 11, 4, 3, 50]);
  });

  test("a rate limit (429 after the retries, no reset said): outcome limit without a reset", () => {
    expect(replay("rate-limit-429", 1).verdict).toMatchObject({ outcome: "limit", reset_at: null });
  });

  test("an ask_operator call to ve's MCP server is a question with its options", () => {
    const { events, verdict } = replay("mcp-ask", 0);
    expect(events.find((e) => e.type === "tool_call")).toEqual({ type: "tool_call", name: "mcp__ve__ask_operator", input: { question: "Which database should I use?", options: ["postgres", "sqlite"] } });
    // ve mcp recorded the ask itself: the stream does not record it again.
    expect(events.some((e) => e.type === "question")).toBe(false);
    expect(verdict).toMatchObject({ outcome: "question", question: "Which database should I use?", options: ["postgres", "sqlite"] });
  });

  test("a notice codex files as an error item (unknown model metadata) is progress; the run completes", () => {
    const { events, verdict } = replay("unknown-model", 0);
    expect(texts(events, "progress").some((t) => t.includes("Model metadata"))).toBe(true);
    expect(verdict.outcome).toBe("completed");
  });

  test("killed mid-stream (no terminal event): failed as a crash, saying so with its last lines", () => {
    const { verdict } = replay("killed-mid-stream", null);
    expect(verdict.outcome).toBe("failed");
    expect(verdict.transient).toBeUndefined();
    expect(verdict.reason).toContain("codex was ended by a signal before its turn ended");
    expect(verdict.reason).toContain("stderr: Reading additional input from stdin");
  });

  test("nothing but a line that is not JSON: a crash before any session, quoting it", () => {
    const reader = new CodexReader();
    expect(reader.line("stdout", "Error: config broke")).toEqual([{ type: "text", text: "Error: config broke" }]);
    reader.line("stderr", "more detail");
    const verdict = reader.finish(2);
    expect(verdict.outcome).toBe("failed");
    expect(verdict.reason).toContain("codex exited with status 2 before it started a session");
    expect(verdict.reason).toContain("Error: config broke");
    expect(verdict.reason).toContain("stderr: more detail");
  });

  test("an error event with no turn.failed after it (codex died right after saying why) decides from its message", () => {
    const reader = new CodexReader();
    reader.line("stdout", JSON.stringify({ type: "thread.started", thread_id: "t" }));
    reader.line("stdout", JSON.stringify({ type: "error", message: "You've hit your usage limit. Try again at 3:05 PM." }));
    expect(reader.finish(1).outcome).toBe("limit");
  });
});

describe("reading codex's failure messages", () => {
  test("usage limit, rate limit, transient, fatal", () => {
    expect(classify("You’ve hit your usage limit. Try again later.")).toMatchObject({ outcome: "limit", reset_at: null });
    expect(classify("exceeded retry limit, last status: 429 Too Many Requests")).toMatchObject({ outcome: "limit", reset_at: null });
    expect(classify("Reconnecting... waiting for network (Connection failed: error sending request)")).toMatchObject({ outcome: "failed", transient: true });
    expect(classify("Model gpt-x is at capacity. Please try a different model. Try again in 5m.")).toMatchObject({ outcome: "failed", transient: true });
    expect(classify("Quota exceeded. Check your plan and billing details.")).toMatchObject({ outcome: "failed" });
    expect(classify("Quota exceeded. Check your plan and billing details.").transient).toBeUndefined();
  });

  test("reset times: today's clock time, another day's date with its ordinal, none", () => {
    const now = new Date(2026, 11, 2, 1, 30);
    expect(parseCodexReset("... or try again at 2:49 AM.", now)).toBe(new Date(2026, 11, 2, 2, 50).toISOString());
    expect(parseCodexReset("... try again at 12:05 PM.", now)).toBe(new Date(2026, 11, 2, 12, 6).toISOString());
    expect(parseCodexReset("... try again at 12:05 AM.", now)).toBe(new Date(2026, 11, 2, 0, 6).toISOString());
    expect(parseCodexReset("... or try again at Jan 1st, 2027 11:59 PM.", now)).toBe(new Date(2027, 0, 2, 0, 0).toISOString());
    expect(parseCodexReset("You've hit your usage limit. Try again later.", now)).toBeNull();
  });
});

function context(dir: string, overrides: Partial<RunContext> = {}): RunContext {
  const worktree = join(dir, "worktree");
  mkdirSync(worktree, { recursive: true });
  return {
    runId: "r1",
    chunk: "parser",
    phase: "IMPLEMENT",
    worktree,
    projectDir: "/project",
    prompt: "-the prompt starts with a dash\n",
    promptFile: join(dir, "prompt.md"),
    resumeSession: null,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: join(dir, "home"),
      CODEX_HOME: join(dir, "codex-home"),
      VE_BIN: "/opt/ve/bin/ve",
      VE_PROJECT_DIR: "/project",
      VE_CHUNK: "parser",
      VE_PHASE: "IMPLEMENT",
      VE_RUN_ID: "r1",
      VE_RUN_TOKEN: "secret-token",
    },
    config: { path: CODEX_BIN, args: ["-m", "gpt-x"] },
    ...overrides,
  };
}

/** The values of every `-c key=value` in argv, by key. */
function overrides(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  argv.forEach((arg, i) => {
    if (arg !== "-c") return;
    const [key, ...value] = (argv[i + 1] ?? "").split("=");
    out[key as string] = value.join("=");
  });
  return out;
}

function sessionFile(dir: string, thread: string, lines: unknown[]): void {
  const sessions = join(dir, "codex-home", "sessions", "2026", "12", "02");
  mkdirSync(sessions, { recursive: true });
  writeFileSync(join(sessions, `rollout-2026-12-02T01-00-00-${thread}.jsonl`), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
}

describe("the codex backend's launch", () => {
  test("first run: exec --json, the sandbox, approval never, ve's MCP server approved, user args, the prompt after --, stdin closed, the version read", async () => {
    const ctx = context(tempDir());
    const launch = await codexBackend.launch(ctx);
    expect(launch.argv.slice(0, 4)).toEqual([CODEX_BIN, "exec", "--json", "--skip-git-repo-check"]);
    expect(overrides(launch.argv)).toEqual({
      sandbox_mode: '"workspace-write"',
      approval_policy: '"never"',
      "mcp_servers.ve.command": '"/opt/ve/bin/ve"',
      "mcp_servers.ve.args": '["mcp"]',
      "mcp_servers.ve.env_vars": '["VE_BIN", "VE_PROJECT_DIR", "VE_CHUNK", "VE_PHASE", "VE_RUN_ID", "VE_RUN_TOKEN"]',
      "mcp_servers.ve.default_tools_approval_mode": '"approve"',
    });
    expect(launch.argv.slice(-4)).toEqual(["-m", "gpt-x", "--", "-the prompt starts with a dash\n"]);
    expect(launch.argv).not.toContain("resume");
    // The run's secret is passed by name; never on a command line every user can read.
    expect(launch.argv.join(" ")).not.toContain("secret-token");
    expect(launch.env.VE_RUN_TOKEN).toBe("secret-token");
    expect(launch.stdin).toBeNull();
    expect(launch.sessionId).toBeNull();
    expect(launch.version).toBe("0.169.0");
  });

  test("backends.codex.sandbox chooses the sandbox", async () => {
    const dir = tempDir();
    const launch = await codexBackend.launch(context(dir, { config: { path: CODEX_BIN, args: [], sandbox: "danger-full-access" } }));
    expect(overrides(launch.argv).sandbox_mode).toBe('"danger-full-access"');
  });

  test("a later run resumes the thread when codex kept its session file, and counts tokens from its last totals; else a new thread", async () => {
    const dir = tempDir();
    const thread = "01a23471-d6f5-70e2-8870-0a579e538e6c";
    const fresh = await codexBackend.launch(context(dir, { resumeSession: thread }));
    expect(fresh.argv).not.toContain("resume");
    // What the engine asks before it writes the prompt agrees with what launch does.
    expect(await codexBackend.canResume?.(thread, context(dir).env)).toBe(false);
    sessionFile(dir, thread, [
      { type: "session_meta", payload: { id: thread } },
      { type: "event_msg", payload: { type: "token_count", info: { total_token_usage: { input_tokens: 1000, cached_input_tokens: 200, output_tokens: 50 } } } },
    ]);
    expect(await codexBackend.canResume?.(thread, context(dir).env)).toBe(true);
    const ctx = context(dir, { resumeSession: thread });
    const resumed = await codexBackend.launch(ctx);
    expect(resumed.argv.slice(-4)).toEqual(["resume", "--", thread, "-the prompt starts with a dash\n"]);
    // -c overrides and user args sit before `resume`, at the exec level, where both kinds of run take them.
    expect(resumed.argv.indexOf("resume")).toBeGreaterThan(resumed.argv.lastIndexOf("-c"));
    const reader = codexBackend.reader(ctx);
    for (const line of readFileSync(join(FIXTURES, "resumed.jsonl"), "utf8").split("\n")) if (line) reader.line("stdout", line);
    expect(reader.finish(0)).toMatchObject({ input_tokens: 1500, output_tokens: 70 });
  });

  test("the thread's totals come from the last token_count of its session file; none without one", () => {
    const dir = tempDir();
    const env = { CODEX_HOME: join(dir, "codex-home") };
    expect(threadTotalsBefore(env, "t-1")).toBeNull();
    sessionFile(dir, "t-1", [
      { type: "event_msg", payload: { type: "token_count", info: { total_token_usage: { input_tokens: 10, cached_input_tokens: 1, output_tokens: 2 } } } },
      { type: "event_msg", payload: { type: "token_count", info: { total_token_usage: { input_tokens: 30, cached_input_tokens: 3, output_tokens: 4 } } } },
    ]);
    expect(threadTotalsBefore(env, "t-1")).toEqual({ input_tokens: 30, cached_input_tokens: 3, output_tokens: 4 });
    expect(threadTotalsBefore(env, "../t-1")).toBeNull();
  });

  test("a prompt too long for one argument is handed over as its file", async () => {
    const dir = tempDir();
    const launch = await codexBackend.launch(context(dir, { prompt: "x".repeat(PROMPT_ARG_MAX_BYTES + 1) }));
    const prompt = launch.argv.at(-1) as string;
    expect(prompt.length).toBeLessThan(1000);
    expect(prompt).toContain(join(dir, "prompt.md"));
  });

  test("a CLI older than the minimum is refused saying how to update it; a missing one says how to install it", async () => {
    const dir = tempDir();
    const old = join(dir, "codex-old");
    writeFileSync(old, "#!/bin/sh\necho 'codex-cli 0.100.0'\n");
    chmodSync(old, 0o755);
    const launch = await codexBackend.launch(context(dir, { config: { path: old, args: [] } }));
    expect(launch.version).toBe("0.100.0");
    let refused: unknown;
    try {
      requireMinVersion("codex", old, launch.version, codexBackend.minVersion);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(VeError);
    expect((refused as VeError).code).toBe("backend_too_old");
    expect((refused as VeError).message).toContain(`older than the ${MIN_CODEX_VERSION} it needs`);
    expect((refused as VeError).message).toContain("npm install -g @openai/codex@latest");

    let missing: unknown;
    try {
      await codexBackend.launch(context(dir, { config: { path: undefined, args: [] }, env: { ...context(dir).env, PATH: join(dir, "empty") } }));
    } catch (error) {
      missing = error;
    }
    expect((missing as VeError).code).toBe("backend_missing");
    expect((missing as VeError).message).toContain("npm install -g @openai/codex");
  });
});
