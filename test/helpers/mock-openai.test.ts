// The OpenAI mock against the real codex CLI: what the engine's codex tests and `ve mcp`'s
// tests rely on (a scripted agent loop, recorded requests, a resumed session's history).
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { codexMockSetup, patchAddFile, reply, runCodexExec, startMockOpenAI, toolOutputs, userTexts, assistantTexts } from "./mock-openai.ts";
import { useTempDirs } from "./temp.ts";

const temp = useTempDirs("ve-mock-openai");

function repo(): { dir: string; worktree: string } {
  const dir = temp();
  const worktree = `${dir}/wt`;
  Bun.spawnSync(["mkdir", "-p", worktree]);
  const env = { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", PATH: process.env.PATH ?? "" };
  Bun.spawnSync(["git", "init", "-q", "-b", "main"], { cwd: worktree, env });
  return { dir, worktree };
}

describe("mock-openai with the real codex", () => {
  test("scripts the agent loop: a shell command, an apply_patch, then text ends the turn", async () => {
    const { dir, worktree } = repo();
    const mock = await startMockOpenAI([reply.shell("printf 'from shell\\n' > shell.txt"), reply.patch(patchAddFile("patched.txt", "from patch\n")), reply.text("all done", { input_tokens: 10, cached_input_tokens: 4, output_tokens: 3 })]);
    try {
      const result = await runCodexExec(codexMockSetup(mock, dir), worktree, "write the files");
      expect(readFileSync(`${worktree}/shell.txt`, "utf8")).toBe("from shell\n");
      expect(readFileSync(`${worktree}/patched.txt`, "utf8")).toBe("from patch\n");
      const types = result.events.map((e) => e.type);
      expect(types[0]).toBe("thread.started");
      expect(types.at(-1)).toBe("turn.completed");
      expect(result.events.find((e) => e.type === "item.completed" && e.item.type === "agent_message")?.item.text).toBe("all done");
      // three model calls, the later ones carrying the tools' outputs back
      const calls = mock.modelCalls();
      expect(calls).toHaveLength(3);
      expect(userTexts(calls[0]!)).toContain("write the files");
      expect(toolOutputs(calls[1]!)).toHaveLength(1);
      expect(toolOutputs(calls[2]!).at(-1)?.output).toContain("patched.txt");
      expect(calls.every((c) => c.threadId === result.events[0]!.thread_id)).toBe(true);
      expect(mock.unscripted).toHaveLength(0);
    } finally {
      await mock.stop();
    }
  }, 60_000);

  test("a resumed session sends the earlier turns again", async () => {
    const { dir, worktree } = repo();
    const mock = await startMockOpenAI([reply.text("first answer"), reply.text("second answer")]);
    try {
      const setup = codexMockSetup(mock, dir);
      const first = await runCodexExec(setup, worktree, "first prompt");
      const thread = first.events[0]!.thread_id as string;
      const second = await runCodexExec(setup, worktree, "second prompt", { resume: thread });
      expect(second.events[0]).toEqual({ type: "thread.started", thread_id: thread });
      const last = mock.modelCalls().at(-1)!;
      expect(userTexts(last)).toEqual(expect.arrayContaining(["first prompt", "second prompt"]));
      expect(assistantTexts(last)).toContain("first answer");
      expect(second.events.at(-1)?.type).toBe("turn.completed");
    } finally {
      await mock.stop();
    }
  }, 60_000);

  test("an error status and a usage limit reach codex as it reads them", async () => {
    const { dir, worktree } = repo();
    const reset = new Date(Date.now() + 2 * 3600_000);
    const mock = await startMockOpenAI([reply.usageLimit(reset)]);
    try {
      const result = await runCodexExec(codexMockSetup(mock, dir), worktree, "hi");
      const failed = result.events.find((e) => e.type === "turn.failed");
      expect(failed?.error.message).toMatch(/usage limit/i);
      expect(mock.modelCalls()).toHaveLength(1);
      // nothing under the real HOME: codex wrote its state into the test's CODEX_HOME
      expect(existsSync(`${dir}/codex-home`)).toBe(true);
    } finally {
      await mock.stop();
    }
  }, 60_000);
});
