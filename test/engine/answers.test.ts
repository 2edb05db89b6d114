// The operator's answers of a phase reach every later run of that phase: a run after an answer
// that fails and is retried, a session that cannot be resumed (its transcript is gone), and
// `retry --fresh` all get every question asked and answered in the phase, in order; a resumed
// session's reply to an answer is only that answer; the next phase starts without them.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Backend, OutputReader, RunContext } from "../../src/agents/backend.ts";
import { Engine } from "../../src/engine/engine.ts";
import { projectPaths } from "../../src/project/paths.ts";
import { EngineStore } from "../../src/state/engine.ts";
import { Store } from "../../src/state/store.ts";
import { waitFor } from "../e2e/harness.ts";
import { useTempDirs } from "../helpers/temp.ts";

const tempDir = useTempDirs("ve-answers-engine");
const SETTLE_MS = 60_000;
const TEST_MS = 120_000;

const engines: { engine: Engine; store: Store }[] = [];
afterEach(async () => {
  for (const { engine, store } of engines.splice(0)) {
    await engine.stop();
    store.close();
  }
});

function git(cwd: string, ...args: string[]): void {
  const result = Bun.spawnSync(["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", ...args], {
    cwd,
    env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
  });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr.toString()}`);
}

/**
 * An agent that keeps sessions, as Claude Code and Codex do: each run saves its prompt, reports
 * its session, then does what line N of the plan says for its Nth run: `ask:QUESTION` (a
 * backend-native question in its stream), `fail` (exit 3), anything else exits 0.
 */
const AGENT = `#!/bin/sh
n=$(( $(cat "$AGENT_DIR/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$AGENT_DIR/count"
cat > "$AGENT_DIR/prompt.$n"
echo "session:s-1"
step=$(sed -n "\${n}p" "$AGENT_DIR/plan")
case "$step" in
  ask:*) echo "$step" ;;
  fail) echo "crashed" >&2; exit 3 ;;
esac
exit 0
`;

class SessionReader implements OutputReader {
  line(_stream: "stdout" | "stderr", text: string) {
    if (text.startsWith("session:")) return [{ type: "init" as const, session_id: text.slice("session:".length) }];
    if (text.startsWith("ask:")) return [{ type: "question" as const, question: text.slice("ask:".length) }];
    return [{ type: "text" as const, text }];
  }

  finish(exitCode: number | null) {
    return exitCode === 0 ? { outcome: "completed" as const, reason: "exited 0" } : { outcome: "failed" as const, reason: `exited ${exitCode}` };
  }
}

function setup(plan: string[], options: { resumable: boolean; config?: Record<string, number> }) {
  const root = tempDir();
  git(root, "init", "-q", "-b", "main");
  writeFileSync(join(root, "README.md"), "hello\n");
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "initial");
  const paths = projectPaths(root);
  mkdirSync(paths.stateDir, { recursive: true });
  writeFileSync(join(paths.stateDir, ".gitignore"), "*\n");
  const agentDir = tempDir();
  writeFileSync(join(agentDir, "agent.sh"), AGENT, { mode: 0o755 });
  writeFileSync(join(agentDir, "plan"), `${plan.join("\n")}\n`);
  const launches: { resumeSession: string | null }[] = [];
  // Named like a built-in backend that keeps sessions; whether its session can be resumed is the test's to say.
  const backend: Backend = {
    name: "claude",
    askHow: "print ask:QUESTION.",
    doneHow: "exit 0.",
    async canResume() {
      return options.resumable;
    },
    async launch(context: RunContext) {
      launches.push({ resumeSession: context.resumeSession });
      return { argv: ["/bin/sh", join(agentDir, "agent.sh")], env: { ...context.env, AGENT_DIR: agentDir }, stdin: context.prompt, sessionId: null, version: null };
    },
    reader: () => new SessionReader(),
  };
  const store = Store.open(paths.db);
  const state = new EngineStore(store);
  for (const [key, value] of Object.entries({ backoff_base_s: 1, backoff_max_s: 1, ...options.config })) state.setConfig(key, value);
  const engine = new Engine({ paths, state, log: { info() {}, warn() {}, error() {} }, backends: { claude: backend }, veBinary: process.execPath });
  engines.push({ engine, store });
  state.inject([{ chunk: "cache", phase: "PLAN", blocked_by: [], goal: "Add a cache." }], { priority: 0, base_branch: "main", backend: "claude" });
  const prompt = (n: number) => readFileSync(join(agentDir, `prompt.${n}`), "utf8");
  const unit = () => store.get("cache");
  /** Waits for the unit's question, then answers it as `ve orch answer` does. */
  const answer = async (question: string, text: string) => {
    expect(await waitFor(() => unit().attention?.question === question, SETTLE_MS)).toBe(true);
    state.answer("cache", text);
  };
  return { engine, state, unit, prompt, answer, launches };
}

/** Every one of `parts` is in `text`, in this order. */
function expectInOrder(text: string, parts: string[]): void {
  const at = parts.map((part) => text.indexOf(part));
  expect(at.every((p) => p >= 0)).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
}

describe("the operator's answers of a phase", () => {
  test("a session that cannot be resumed gets every question and answer of the phase, also on a retry after the answered run failed; the next phase starts clean", async () => {
    const t = setup(["ask:Which store?", "ask:How long may an entry live?", "fail", "ok", "ok", "ok"], { resumable: false, config: { "retries.failed": 1 } });
    await t.engine.start();
    await t.answer("Which store?", "SQLite");
    await t.answer("How long may an entry live?", "One hour");
    expect(await waitFor(() => t.unit().status === "DONE", SETTLE_MS)).toBe(true);

    const qa = ["> Which store?", "> SQLite", "> How long may an entry live?", "> One hour"];
    // Run 3 answers the second question in a new session: it starts with the answer and has the whole phase's exchange.
    expect(t.prompt(3).startsWith("The operator's answer:\n\nOne hour\n")).toBe(true);
    expectInOrder(t.prompt(3), qa);
    // Run 3 failed; its retry (run 4) still has every question and answer, in order.
    expect(t.prompt(4)).toContain("the previous run failed");
    expectInOrder(t.prompt(4), qa);
    // Run 5 is the next phase (IMPLEMENT): none of PLAN's exchange.
    for (const part of ["Which store?", "SQLite", "How long may an entry live?", "One hour"]) expect(t.prompt(5)).not.toContain(part);
  }, TEST_MS);

  test("a resumed session's reply to an answer is only that answer; `retry --fresh` starts a new session that gets every answer of the phase", async () => {
    const t = setup(["ask:Which store?", "ask:How long may an entry live?", "fail", "ok", "ok", "ok"], { resumable: true, config: { "retries.failed": 0 } });
    await t.engine.start();
    await t.answer("Which store?", "SQLite");
    await t.answer("How long may an entry live?", "One hour");
    expect(await waitFor(() => t.unit().attention?.kind === "error", SETTLE_MS)).toBe(true);
    // Run 3 resumes the session: the latest answer only, as the operator's reply.
    expect(t.prompt(3).startsWith("The operator's answer:\n\nOne hour\n")).toBe(true);
    expect(t.prompt(3)).not.toContain("Which store?");
    expect(t.launches[2]?.resumeSession).toBe("s-1");

    t.state.retry("cache", true);
    expect(await waitFor(() => t.unit().status === "DONE", SETTLE_MS)).toBe(true);
    expect(t.launches[3]?.resumeSession).toBeNull();
    expectInOrder(t.prompt(4), ["> Which store?", "> SQLite", "> How long may an entry live?", "> One hour"]);
    expect(t.prompt(5)).not.toContain("SQLite");
  }, TEST_MS);

  test("a resumed session's retry after the answered run failed is told the phase's answers again (that run may have died before its session kept the answer)", async () => {
    const t = setup(["ask:Which store?", "ask:How long may an entry live?", "fail", "ok", "ok", "ok"], { resumable: true, config: { "retries.failed": 1 } });
    await t.engine.start();
    await t.answer("Which store?", "SQLite");
    await t.answer("How long may an entry live?", "One hour");
    expect(await waitFor(() => t.unit().status === "DONE", SETTLE_MS)).toBe(true);
    expect(t.launches[3]?.resumeSession).toBe("s-1");
    expect(t.prompt(4)).toContain("the previous run failed");
    expectInOrder(t.prompt(4), ["> Which store?", "> SQLite", "> How long may an entry live?", "> One hour"]);
  }, TEST_MS);

  test("a unit a person moves to another phase after the answer, before its next run, gets none of the old phase's answers", async () => {
    const t = setup(["ask:Which store?", "ok", "ok"], { resumable: false });
    await t.engine.start();
    expect(await waitFor(() => t.unit().attention?.question === "Which store?", SETTLE_MS)).toBe(true);
    // In one transaction, so the scheduler cannot start the PLAN run in between.
    t.state.store.atomically(() => {
      t.state.answer("cache", "SQLite");
      t.state.store.update("cache", { phase: "IMPLEMENT" });
    });
    expect(await waitFor(() => t.unit().status === "DONE", SETTLE_MS)).toBe(true);
    for (const part of ["Which store?", "SQLite", "The operator's answer"]) expect(t.prompt(2)).not.toContain(part);
  }, TEST_MS);
});
