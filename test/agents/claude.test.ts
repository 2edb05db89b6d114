// The claude backend's reader over lines the REAL claude 2.1.328 printed against the mock API
// (recorded by test/fixtures/claude/record.ts into test/fixtures/claude/), and its launch:
// the command line, the session (pre-assigned, resumed only when its transcript exists), the
// prompt on stdin, the version check.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AgentEvent, RunContext, RunVerdict } from "../../src/agents/backend.ts";
import { ClaudeReader, MIN_CLAUDE_VERSION, claudeBackend } from "../../src/agents/claude.ts";
import { requireMinVersion } from "../../src/agents/executables.ts";
import { VeError } from "../../src/errors.ts";
import { useTempDirs } from "../helpers/temp.ts";

const FIXTURES = resolve(import.meta.dir, "../fixtures/claude");
const CLAUDE = resolve(import.meta.dir, "../../node_modules/.bin/claude");
const tempDir = useTempDirs("ve-claude");

/** Feeds a recorded case through a fresh reader; `exitCode` is what the process ended with. */
function replay(name: string, exitCode: number | null): { events: AgentEvent[]; verdict: RunVerdict } {
  const reader = new ClaudeReader();
  const events: AgentEvent[] = [];
  for (const line of readFileSync(join(FIXTURES, `${name}.jsonl`), "utf8").split("\n")) if (line) events.push(...reader.line("stdout", line));
  let stderr = "";
  try {
    stderr = readFileSync(join(FIXTURES, `${name}.stderr`), "utf8");
  } catch {}
  for (const line of stderr.split("\n")) if (line) events.push(...reader.line("stderr", line));
  return { events, verdict: reader.finish(exitCode) };
}

describe("the claude reader, over recorded lines of the real CLI", () => {
  test("a Write then an answer: init with the session and version, the tool call, completed with cost, turns, tokens", () => {
    const { events, verdict } = replay("write-success", 0);
    const init = events.find((e) => e.type === "init");
    expect(init).toMatchObject({ type: "init", version: "2.1.328" });
    expect((init as { session_id: string }).session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(events.find((e) => e.type === "tool_call")).toMatchObject({ name: "Write" });
    expect(events.find((e) => e.type === "tool_result")).toMatchObject({ ok: true });
    expect(events.filter((e) => e.type === "text").map((e) => (e as { text: string }).text)).toEqual(["Wrote hello.txt."]);
    expect(verdict.outcome).toBe("completed");
    expect(verdict.reason).toContain("Wrote hello.txt.");
    expect(verdict.turns).toBe(2);
    expect(verdict.cost_usd).toBeGreaterThan(0);
    expect(verdict.input_tokens).toBe(200);
    expect(verdict.output_tokens).toBe(40);
  });

  test("a Write outside the working directory: refused, naming the tool and its input, though the result says success", () => {
    const { events, verdict } = replay("permission-denied", 0);
    expect(events.some((e) => e.type === "progress" && e.text.includes("permission denied: Write"))).toBe(true);
    expect(verdict.outcome).toBe("failed");
    expect(verdict.permission).toEqual([{ tool: "Write", input: { file_path: "/tmp/ve-claude-fixture-outside.txt", content: "x\n" } }]);
    expect(verdict.reason).toContain("Write");
    expect(verdict.reason).toContain("/tmp/ve-claude-fixture-outside.txt");
    expect(verdict.reason).toContain("outside allowed working directories");
  });

  test("529 and 500 after claude's own retries: api_retry lines are progress, the run a transient failure", () => {
    for (const [name, status] of [["overloaded-529", 529], ["server-error-500", 500]] as const) {
      const { events, verdict } = replay(name, 1);
      expect(events.filter((e) => e.type === "progress" && e.text.includes(`API error ${status}`))).toHaveLength(2);
      expect(verdict).toMatchObject({ outcome: "failed", transient: true });
      expect(verdict.reason).toContain(`(${status})`);
    }
  });

  test("the exit code decides nothing: the same 529 result with exit 0 is still a failure", () => {
    expect(replay("overloaded-529", 0).verdict).toMatchObject({ outcome: "failed", transient: true });
  });

  test("an invalid key (401) is a failure that retrying does not fix", () => {
    const { verdict } = replay("invalid-key-401", 1);
    expect(verdict.outcome).toBe("failed");
    expect(verdict.transient).toBe(false);
    expect(verdict.reason).toContain("Invalid API key");
  });

  test("a subscriber's usage limit: outcome limit with the reset claude reported", () => {
    const lines = readFileSync(join(FIXTURES, "usage-limit-subscription.jsonl"), "utf8");
    const resetsAt = JSON.parse(lines.split("\n").find((l) => l.includes('"rate_limit_event"')) as string).rate_limit_info.resetsAt as number;
    const { events, verdict } = replay("usage-limit-subscription", 1);
    expect(events.some((e) => e.type === "progress" && e.text.startsWith("usage limit reached"))).toBe(true);
    expect(verdict.outcome).toBe("limit");
    expect(verdict.reset_at).toBe(new Date(resetsAt * 1000).toISOString());
    expect(verdict.reason).toContain("limit");
  });

  test("an API key's rate limit (429, no reset said): outcome limit without a reset time", () => {
    const { verdict } = replay("rate-limit-api-key", 1);
    expect(verdict).toMatchObject({ outcome: "limit", reset_at: null });
  });

  test("an AskUserQuestion call is a question with its options, though claude refused the tool", () => {
    const { events, verdict } = replay("ask-user-question", 0);
    expect(events).toContainEqual({ type: "question", question: "Which database should I use?", options: ["postgres", "sqlite"] });
    expect(verdict).toMatchObject({ outcome: "question", question: "Which database should I use?", options: ["postgres", "sqlite"] });
  });

  test("the turn limit (is_error, error_max_turns) fails the run and says why", () => {
    const { verdict } = replay("max-turns", 1);
    expect(verdict.outcome).toBe("failed");
    expect(verdict.transient).toBeUndefined();
    expect(verdict.reason).toContain("turn limit");
  });

  test("killed mid-stream (no result line): failed, not success", () => {
    const { verdict } = replay("killed-mid-stream", null);
    expect(verdict.outcome).toBe("failed");
    expect(verdict.reason).toContain("ended by a signal without a result");
  });

  test("resuming an unknown session: failed with claude's own words", () => {
    const { verdict } = replay("resume-not-found", 1);
    expect(verdict.outcome).toBe("failed");
    expect(verdict.reason).toContain("No conversation found");
  });

  test("a line that is not JSON is kept as text and shown in a crash's reason", () => {
    const reader = new ClaudeReader();
    expect(reader.line("stdout", "Error: something broke")).toEqual([{ type: "text", text: "Error: something broke" }]);
    expect(reader.line("stderr", "trace line")).toEqual([]);
    const verdict = reader.finish(1);
    expect(verdict.outcome).toBe("failed");
    expect(verdict.reason).toContain("exited with status 1 without a result");
    expect(verdict.reason).toContain("Error: something broke");
    expect(verdict.reason).toContain("stderr: trace line");
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
      CLAUDE_CONFIG_DIR: join(dir, "config"),
      VE_BIN: "/opt/ve/bin/ve",
      VE_PROJECT_DIR: "/project",
      VE_CHUNK: "parser",
      VE_PHASE: "IMPLEMENT",
      VE_RUN_ID: "r1",
      VE_RUN_TOKEN: "secret-token",
    },
    config: { path: CLAUDE, args: ["--model", "claude-x"], permissionMode: "acceptEdits" },
    ...overrides,
  };
}

function option(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at < 0 ? undefined : argv[at + 1];
}

describe("the claude backend's launch", () => {
  test("first run: print mode with stream-json, a pre-assigned session, the permission mode, no worktree tools, ve's MCP server, the prompt on stdin", async () => {
    const ctx = context(tempDir());
    const launch = await claudeBackend.launch(ctx);
    expect(launch.argv.slice(0, 5)).toEqual([CLAUDE, "-p", "--output-format", "stream-json", "--verbose"]);
    expect(launch.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(option(launch.argv, "--session-id")).toBe(launch.sessionId as string);
    expect(launch.argv).not.toContain("--resume");
    expect(option(launch.argv, "--permission-mode")).toBe("acceptEdits");
    expect(option(launch.argv, "--disallowedTools")).toBe("EnterWorktree,ExitWorktree");
    expect(option(launch.argv, "--allowedTools")).toBe("mcp__ve__ask_operator,mcp__ve__report_done");
    expect(launch.argv).toContain("--strict-mcp-config");
    const mcp = JSON.parse(option(launch.argv, "--mcp-config") as string);
    expect(mcp.mcpServers.ve).toMatchObject({ command: "/opt/ve/bin/ve", args: ["mcp"], env: { VE_CHUNK: "parser", VE_RUN_ID: "r1" } });
    // The run's secret is inherited, never on a command line every user can read.
    expect(launch.argv.join(" ")).not.toContain("secret-token");
    expect(launch.env.VE_RUN_TOKEN).toBe("secret-token");
    expect(launch.argv.slice(-2)).toEqual(["--model", "claude-x"]);
    expect(launch.stdin).toBe("-the prompt starts with a dash\n");
    expect(launch.argv).not.toContain("-the prompt starts with a dash\n");
    expect(launch.version).toBe("2.1.328");
  });

  test("a later run resumes the session when claude keeps its transcript, else starts it afresh under the same id", async () => {
    const dir = tempDir();
    const session = crypto.randomUUID();
    const fresh = await claudeBackend.launch(context(dir, { resumeSession: session }));
    expect(option(fresh.argv, "--session-id")).toBe(session);
    expect(fresh.argv).not.toContain("--resume");
    // What the engine asks before it writes the prompt agrees with what launch does.
    expect(await claudeBackend.canResume?.(session, context(dir).env)).toBe(false);
    mkdirSync(join(dir, "config", "projects", "-some-worktree"), { recursive: true });
    writeFileSync(join(dir, "config", "projects", "-some-worktree", `${session}.jsonl`), "{}\n");
    expect(await claudeBackend.canResume?.(session, context(dir).env)).toBe(true);
    const resumed = await claudeBackend.launch(context(dir, { resumeSession: session }));
    expect(option(resumed.argv, "--resume")).toBe(session);
    expect(resumed.argv).not.toContain("--session-id");
    expect(resumed.sessionId).toBe(session);
  });

  test("a CLI older than the minimum is refused saying how to update it; a missing one says how to install it", async () => {
    const dir = tempDir();
    const old = join(dir, "claude");
    writeFileSync(old, '#!/bin/sh\necho "1.0.3 (Claude Code)"\n');
    chmodSync(old, 0o755);
    const launch = await claudeBackend.launch(context(dir, { config: { path: old, args: [] } }));
    expect(launch.version).toBe("1.0.3");
    expect(claudeBackend.minVersion).toBe(MIN_CLAUDE_VERSION);
    let error: unknown;
    try {
      requireMinVersion(claudeBackend.name, old, launch.version, claudeBackend.minVersion);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VeError);
    expect((error as VeError).code).toBe("backend_too_old");
    expect((error as VeError).message).toContain(`${old} is version 1.0.3, older than the ${MIN_CLAUDE_VERSION}`);
    expect((error as VeError).message).toContain("npm install -g @anthropic-ai/claude-code");
    const missing = await claudeBackend.launch(context(dir, { config: { path: join(dir, "nope"), args: [] } })).catch((e) => e);
    expect((missing as VeError).code).toBe("backend_missing");
    expect((missing as VeError).message).toContain("backends.claude.path");
  });
});
