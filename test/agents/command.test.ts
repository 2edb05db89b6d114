import { describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunContext } from "../../src/agents/backend.ts";
import { commandBackend } from "../../src/agents/command.ts";
import { agentEnvironment } from "../../src/agents/environment.ts";
import { startProcess } from "../../src/engine/process-group.ts";
import { VeError } from "../../src/errors.ts";
import { useTempDirs } from "../helpers/temp.ts";

const tempDir = useTempDirs("ve-command");

function context(dir: string, path: string, args: string[] = []): RunContext {
  const promptFile = join(dir, "prompt.md");
  writeFileSync(promptFile, "the prompt\n");
  return {
    runId: "r1",
    chunk: "parser",
    phase: "PLAN",
    worktree: dir,
    projectDir: "/project",
    prompt: "the prompt\n",
    promptFile,
    resumeSession: null,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    config: { path, args },
  };
}

function script(dir: string, body: string): string {
  const path = join(dir, "agent.sh");
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

async function run(ctx: RunContext) {
  const launch = await commandBackend.launch(ctx);
  const reader = commandBackend.reader(ctx);
  const events: unknown[] = [];
  const proc = startProcess({ ...launch, cwd: ctx.worktree, onLine: (s, l) => events.push(...reader.line(s, l)) });
  const exit = await proc.done;
  return { verdict: reader.finish(exit.code), events };
}

describe("the command backend", () => {
  test("the prompt arrives on stdin and in VE_PROMPT_FILE; exit 0 completes the phase", async () => {
    const dir = tempDir();
    const ctx = context(dir, script(dir, 'read line; echo "stdin:$line"; echo "file:$(cat "$VE_PROMPT_FILE")"; echo "$@"'), ["--x", "y"]);
    const { verdict, events } = await run(ctx);
    expect(verdict.outcome).toBe("completed");
    expect(events).toEqual([
      { type: "text", text: "stdin:the prompt" },
      { type: "text", text: "file:the prompt" },
      { type: "text", text: "--x y" },
    ]);
  });

  test("a non-zero exit fails the run with the last lines it printed", async () => {
    const dir = tempDir();
    const { verdict } = await run(context(dir, script(dir, "echo working; echo broken >&2; exit 3")));
    expect(verdict.outcome).toBe("failed");
    expect(verdict.reason).toContain("exited with status 3");
    expect(verdict.reason).toContain("working\nstderr: broken");
  });

  test("a missing program is backend_missing saying how to configure it", async () => {
    const dir = tempDir();
    const error = await commandBackend.launch(context(dir, join(dir, "nope"))).catch((e) => e);
    expect(error).toBeInstanceOf(VeError);
    expect((error as VeError).code).toBe("backend_missing");
    expect((error as VeError).message).toContain("ve orch config backends.command.path");
  });
});

describe("the agent environment", () => {
  test("git redirections are removed; the unit, phase, run, project and ve itself are added", () => {
    const env = agentEnvironment(
      { projectDir: "/p", chunk: "c", phase: "PLAN", runId: "r", runToken: "t", veBinary: "/opt/ve/bin/ve" },
      { PATH: "/usr/bin", HOME: "/home/u", GIT_DIR: "/elsewhere/.git", GIT_INDEX_FILE: "/x", GIT_AUTHOR_NAME: "A" },
    );
    expect(env.GIT_DIR).toBeUndefined();
    expect(env.GIT_INDEX_FILE).toBeUndefined();
    expect(env.GIT_AUTHOR_NAME).toBe("A");
    expect(env.HOME).toBe("/home/u");
    expect(env.PATH).toBe("/opt/ve/bin:/usr/bin");
    expect(env).toMatchObject({ VE_PROJECT_DIR: "/p", VE_CHUNK: "c", VE_PHASE: "PLAN", VE_RUN_ID: "r", VE_RUN_TOKEN: "t", VE_BIN: "/opt/ve/bin/ve" });
  });
});
