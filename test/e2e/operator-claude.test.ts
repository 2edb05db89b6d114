// The operator loop with the REAL claude (node_modules/.bin/claude) against the scripted mock
// Anthropic API, through dist/ve: the model asks through `ve mcp`'s ask_operator (claude starts
// `ve mcp` from --mcp-config) or through Claude's own AskUserQuestion tool; the unit waits in
// `ve orch attention` with the question and its options; `ve orch answer` resumes the same
// claude session, and the mock sees the earlier turns and the answer in the resumed request;
// the unit lands. Hermetic: temporary HOME and CLAUDE_CONFIG_DIR, only the mock on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type MockAnthropic, type RecordedRequest, CLAUDE_REAL_ACCOUNT, claudeEnv, contentText, startMockAnthropic } from "../helpers/mock-anthropic.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { GIT_ENV, type UnitJson, endProject, expectOk, git, initRepo } from "./engine-harness.ts";
import { VE, json, run, waitFor } from "./harness.ts";

const CLAUDE = resolve(import.meta.dir, "../../node_modules/.bin/claude");
const scratch = useTempDirs("ve-operator-claude");
setDefaultTimeout(240_000);
const SETTLE_MS = 150_000;


interface RunJson {
  id: string;
  phase: string;
  outcome: string | null;
  session_id: string | null;
  summary: string | null;
  agent_calls: { kind: string; via: string; question: string | null; options: string[] | null }[];
}
interface Attention {
  kind: string;
  reason: string;
  question: string | null;
  options: string[] | null;
  run_id: string | null;
}

const forChunk = (chunk: string) => `on branch ve/${chunk}. `;

/** Every message of a request as `role: text`, tool calls and results included, to look for the earlier turns. */
function transcript(request: RecordedRequest): string {
  const messages: any[] = request.body?.messages ?? [];
  return messages
    .map((m) => {
      const blocks = Array.isArray(m.content) ? m.content : [{ type: "text", text: m.content }];
      return blocks
        .map((b: any) => (b.type === "tool_use" ? `${m.role}: tool_use ${b.name} ${JSON.stringify(b.input)}` : `${m.role}: ${b.type === "tool_result" ? `tool_result ${contentText(b.content)}` : contentText([b])}`))
        .join("\n");
    })
    .join("\n");
}

describe("the operator loop with the real claude", () => {
  let dir = "";
  let mock: MockAnthropic;
  let env: Record<string, string | undefined>;
  const ve = (args: string[]) => run([VE, ...args, "--project-dir", dir], { env });
  const wt = (chunk: string) => join(dir, ".ve", "worktrees", chunk);
  const units = async () => json<{ work_units: (UnitJson & { attention: Attention | null })[] }>(await ve(["orch", "ps", "--json"])).work_units;
  const runs = async (chunk: string) => json<{ runs: RunJson[] }>(await ve(["orch", "runs", chunk, "--json"])).runs;
  const unit = async (chunk: string, done: (u: UnitJson & { attention: Attention | null }) => boolean) => {
    let last: (UnitJson & { attention: Attention | null }) | undefined;
    const held = await waitFor(async () => {
      last = (await units()).find((u) => u.chunk === chunk);
      return last !== undefined && done(last);
    }, SETTLE_MS, 200);
    if (!held) throw new Error(`unit ${chunk} did not get there: ${JSON.stringify({ last, runs: await runs(chunk), unscripted: mock.unscripted.length }, null, 2)}`);
    return last as UnitJson & { attention: Attention | null };
  };
  const waiting = (u: UnitJson) => u.status === "NEEDS_ATTENTION" || u.status === "DONE";

  beforeAll(async () => {
    dir = join(scratch(), "repo");
    initRepo(dir);
    const write = (chunk: string, file: string, content: string) => ({ tool: { name: "Write", input: { file_path: join(wt(chunk), file), content } } });
    mock = await startMockAnthropic([
      {
        match: forChunk("asks-mcp"),
        turns: [
          { tool: { name: "mcp__ve__ask_operator", input: { question: "Which greeting should the file hold?", options: ["hello", "hi there"] } } },
          { text: "I asked the operator; ending my turn." },
          // The resumed request: the answer arrived as the operator's reply.
          () => write("asks-mcp", "greeting.txt", "hi there\n"),
          { tool: { name: "mcp__ve__report_done", input: { summary: "Wrote greeting.txt with the operator's choice." } } },
          { text: "Done." },
          { text: "Checked against the goal." },
        ],
      },
      {
        match: forChunk("asks-native"),
        turns: [
          {
            tool: {
              name: "AskUserQuestion",
              input: { questions: [{ question: "Tabs or spaces?", header: "Indent", multiSelect: false, options: [{ label: "tabs", description: "one tab" }, { label: "spaces", description: "four spaces" }] }] },
            },
          },
          { text: "Waiting for the operator." },
          () => write("asks-native", "indent.txt", "spaces\n"),
          { text: "Done." },
          { text: "Checked." },
        ],
      },
    ]);
    const hermetic = claudeEnv(mock, scratch());
    env = { ...CLAUDE_REAL_ACCOUNT, ...GIT_ENV, ...hermetic.env };
    expectOk(await ve(["orch", "start"]));
    for (const [key, value] of Object.entries({ backend: "claude", "backends.claude.path": CLAUDE, max_agents: "2", silence_timeout_s: "120", backoff_base_s: "1", backoff_max_s: "2" })) {
      expectOk(await ve(["orch", "config", key, value]));
    }
    expectOk(await ve(["orch", "inject", "asks-mcp", "asks-native", "--phase", "IMPLEMENT"]));
  });

  afterAll(async () => {
    if (!dir) return;
    await endProject(dir, env);
    await mock?.stop();
  });

  test("ask_operator through ve mcp: waits in `ve orch attention` with question and options; answered, the same session resumes with the earlier turns and the answer; it lands", async () => {
    const asked = await unit("asks-mcp", waiting);
    expect(asked.status).toBe("NEEDS_ATTENTION");
    expect(asked.attention).toMatchObject({ kind: "question", question: "Which greeting should the file hold?", options: ["hello", "hi there"] });
    expect(asked.attention?.reason).toContain("ask_operator");
    const queue = json<{ attention: { chunk: string; kind: string; question: string; options: string[] }[] }>(expectOk(await ve(["orch", "attention", "--json"])));
    expect(queue.attention.find((a) => a.chunk === "asks-mcp")).toMatchObject({ kind: "question", question: "Which greeting should the file hold?", options: ["hello", "hi there"] });
    const first = (await runs("asks-mcp"))[0] as RunJson;
    expect(first).toMatchObject({ outcome: "question", agent_calls: [{ kind: "ask", via: "mcp", question: "Which greeting should the file hold?", options: ["hello", "hi there"] }] });
    // ve mcp answered the tool call at once, telling the model to end its turn.
    const afterTool = mock.messages().find((r) => r.conversation === 0 && r.turn === 1) as RecordedRequest;
    expect(transcript(afterTool)).toContain("tool_result Recorded your question for the operator. End your turn now");

    expectOk(await ve(["orch", "answer", "asks-mcp", "--option", "2"]));
    const landed = await unit("asks-mcp", (u) => u.status === "DONE" || (u.status === "NEEDS_ATTENTION" && u.attention?.run_id !== first.id));
    expect(landed.status).toBe("DONE");
    const resumed = mock.messages().find((r) => r.conversation === 0 && r.turn === 2) as RecordedRequest;
    const text = transcript(resumed);
    // The earlier turns of the same conversation, then the operator's answer.
    expect(text).toContain('assistant: tool_use mcp__ve__ask_operator {"question":"Which greeting should the file hold?"');
    expect(text).toContain("assistant: I asked the operator; ending my turn.");
    expect(text.lastIndexOf("hi there")).toBeGreaterThan(text.indexOf("I asked the operator; ending my turn."));
    const all = await runs("asks-mcp");
    expect(all.map((r) => [r.phase, r.outcome])).toEqual([
      ["IMPLEMENT", "question"],
      ["IMPLEMENT", "completed"],
      ["COMPLETE", "completed"],
    ]);
    expect(new Set(all.map((r) => r.session_id)).size).toBe(1);
    expect(all[1]?.summary).toBe("Wrote greeting.txt with the operator's choice.");
    expect(readFileSync(join(dir, "greeting.txt"), "utf8")).toBe("hi there\n");
    expect(git(dir, "log", "--format=%s", "main")).toContain("Land asks-mcp (ve)");
  });

  test("Claude's own AskUserQuestion: the same wait with its options; answered, resumed, landed", async () => {
    const asked = await unit("asks-native", waiting);
    expect(asked.status).toBe("NEEDS_ATTENTION");
    expect(asked.attention).toMatchObject({ kind: "question", question: "Tabs or spaces?", options: ["tabs", "spaces"] });
    const first = (await runs("asks-native"))[0] as RunJson;
    expect(first).toMatchObject({ outcome: "question", agent_calls: [{ kind: "ask", via: "stream", question: "Tabs or spaces?", options: ["tabs", "spaces"] }] });

    expectOk(await ve(["orch", "answer", "asks-native", "spaces, four of them"]));
    const landed = await unit("asks-native", (u) => u.status === "DONE" || (u.status === "NEEDS_ATTENTION" && u.attention?.run_id !== first.id));
    expect(landed.status).toBe("DONE");
    const resumed = mock.messages().find((r) => r.conversation === 1 && r.turn === 2) as RecordedRequest;
    const text = transcript(resumed);
    expect(text).toContain("assistant: tool_use AskUserQuestion");
    expect(text).toContain("assistant: Waiting for the operator.");
    expect(text.lastIndexOf("spaces, four of them")).toBeGreaterThan(text.indexOf("Waiting for the operator."));
    const all = await runs("asks-native");
    expect(new Set(all.map((r) => r.session_id)).size).toBe(1);
    expect(readFileSync(join(dir, "indent.txt"), "utf8")).toBe("spaces\n");
    expect(mock.unscripted).toEqual([]);
  });
});
