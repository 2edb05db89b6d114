// `ve orch backend check` inside the daemon: a one-line prompt through the backend seam in a
// scratch git repository, step by step, with a hint for each failed step; the scratch
// directory and every process it started are gone when the answer comes.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Backend } from "../../src/agents/backend.ts";
import { commandBackend } from "../../src/agents/command.ts";
import { BackendChecks, CHECK_PROMPT } from "../../src/engine/backend-check.ts";
import type { ConfigValue } from "../../src/engine/config.ts";
import type { VeError } from "../../src/errors.ts";
import { processInfo } from "../../src/platform/process.ts";
import { useTempDirs } from "../helpers/temp.ts";

const tempDir = useTempDirs("ve-check-unit");
const CHECK_MS = 20_000;

function script(body: string): string {
  const path = join(tempDir(), "agent.sh");
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function checks(settings: Record<string, ConfigValue>, backends: Record<string, Backend> = { command: commandBackend }, projectDir = tempDir()) {
  const config = new Map(Object.entries(settings));
  return new BackendChecks({ backends, config: () => config, projectDir, veBinary: "/opt/ve/bin/ve", baseEnv: { PATH: process.env.PATH, FROM_DAEMON: "yes", GIT_DIR: "/elsewhere" } });
}

/** A backend of a CLI with a version: `version` is what its launch() reports; it runs `agent`. */
function versioned(version: string | null, agent = "/bin/true", minVersion = "2.0.0"): Backend {
  return {
    ...commandBackend,
    name: "fake",
    minVersion,
    program: "fake-cli",
    async launch(context) {
      return { argv: [agent], env: context.env, stdin: context.prompt, sessionId: null, version };
    },
  };
}

describe("a check of the command backend", () => {
  test("a program that succeeds: every step works, in a scratch git repository with the daemon's environment", async () => {
    const out = join(tempDir(), "seen");
    const agent = script(
      `read line; echo "$line"; { pwd; git rev-parse --is-inside-work-tree; echo "$VE_CHUNK $VE_PHASE $FROM_DAEMON \${GIT_DIR:-no-git-dir}"; echo "$VE_PROJECT_DIR"; cat "$VE_PROMPT_FILE"; } > ${out}`,
    );
    const project = tempDir();
    const report = await checks({ "backends.command.path": agent, "backends.command.args": ["--flag"] }, undefined, project).check("command", CHECK_MS);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([
      ["executable", true],
      ["version", null],
      ["start", true],
      ["outcome", true],
    ]);
    expect(report.executable).toBe(agent);
    expect(report.outcome).toBe("completed");
    expect(report.exit_code).toBe(0);
    expect(report.reply).toBe(CHECK_PROMPT.trim());
    const [cwd, inside, identity, projectDir, prompt] = readFileSync(out, "utf8").split("\n");
    expect(cwd).toBe(report.scratch_dir as string);
    expect(cwd?.startsWith(project)).toBe(false);
    expect(inside).toBe("true");
    expect(identity).toBe("backend-check IMPLEMENT yes no-git-dir");
    expect(projectDir).toBe(project);
    expect(prompt).toBe(CHECK_PROMPT.trim());
    expect(existsSync(report.scratch_dir as string)).toBe(false);
  });

  test("a program that fails: the outcome step fails with its status, its last lines and what to do", async () => {
    const agent = script('echo "working"; echo "no credentials" >&2; exit 3');
    const report = await checks({ "backends.command.path": agent }).check("command", CHECK_MS);
    expect(report.ok).toBe(false);
    expect(report.outcome).toBe("failed");
    expect(report.exit_code).toBe(3);
    const outcome = report.steps.find((s) => s.step === "outcome");
    expect(outcome?.ok).toBe(false);
    expect(outcome?.summary).toContain("exited with status 3");
    expect(outcome?.hint).toContain("ve orch config backends.command.args");
    // Both lines, whichever of the two pipes was read first.
    expect([...report.output].sort()).toEqual(["stderr: no credentials", "working"]);
    expect(existsSync(report.scratch_dir as string)).toBe(false);
  });

  test("a missing program: the executable step fails saying how to configure it; nothing else runs", async () => {
    const nowhere = join(tempDir(), "absent");
    const report = await checks({ "backends.command.path": nowhere }).check("command", CHECK_MS);
    expect(report.ok).toBe(false);
    expect(report.steps).toEqual([
      { step: "executable", ok: false, summary: `The command backend's program ${nowhere} does not exist or is not executable.`, hint: "set it with `ve orch config backends.command.path /path/to/program`" },
      { step: "version", ok: null, summary: "skipped: an earlier step failed", hint: null },
      { step: "start", ok: null, summary: "skipped: an earlier step failed", hint: null },
      { step: "outcome", ok: null, summary: "skipped: an earlier step failed", hint: null },
    ]);
    expect(existsSync(report.scratch_dir as string)).toBe(false);
  });

  test("an agent that does not answer in time is ended with its process group: outcome timeout", async () => {
    const pids = join(tempDir(), "pids");
    const agent = script(`sleep 300 & echo $! > ${pids}; echo "thinking"; wait`);
    const report = await checks({ "backends.command.path": agent }).check("command", 1000);
    expect(report.ok).toBe(false);
    expect(report.outcome).toBe("timeout");
    expect(report.reason).toBe("it did not finish within 1 s");
    expect(report.steps.at(-1)?.hint).toContain("--timeout");
    const sleeper = Number(readFileSync(pids, "utf8"));
    expect(processInfo(sleeper)).toBeUndefined();
    expect(existsSync(report.scratch_dir as string)).toBe(false);
  });
});

describe("versions", () => {
  test("a CLI older than the backend's minimum fails the version step saying how to upgrade; nothing runs", async () => {
    const ran = join(tempDir(), "ran");
    const agent = script(`touch ${ran}`);
    const report = await checks({}, { fake: versioned("1.9.9", agent) }).check("fake", CHECK_MS);
    expect(report.ok).toBe(false);
    expect(report.version).toBe("1.9.9");
    expect(report.min_version).toBe("2.0.0");
    const version = report.steps.find((s) => s.step === "version");
    expect(version?.ok).toBe(false);
    expect(version?.summary).toContain("is version 1.9.9, older than the 2.0.0 it needs");
    expect(version?.hint).toContain("backends.fake.path");
    expect(report.steps.filter((s) => s.step === "start" || s.step === "outcome").map((s) => s.ok)).toEqual([null, null]);
    expect(existsSync(ran)).toBe(false);
  });

  test("a CLI that meets the minimum says so", async () => {
    const agent = script("echo OK");
    const report = await checks({}, { fake: versioned("2.0.0", agent) }).check("fake", CHECK_MS);
    expect(report.steps.find((s) => s.step === "version")).toEqual({ step: "version", ok: true, summary: "2.0.0 (needs 2.0.0 or newer)", hint: null });
    expect(report.ok).toBe(true);
  });
});

describe("names and the list", () => {
  test("an unknown backend is not_found naming the known ones", async () => {
    let error: unknown;
    try {
      await checks({}).check("clade", CHECK_MS);
    } catch (e) {
      error = e;
    }
    expect((error as VeError).code).toBe("not_found");
    expect((error as VeError).message).toBe("There is no backend named 'clade'; the backends are command.");
  });

  test("the list shows each backend's program, version and problem without starting an agent", async () => {
    const ran = join(tempDir(), "ran");
    const agent = script(`touch ${ran}; echo "fake-cli 1.0.0"`);
    const dir = join(agent, "..");
    writeFileSync(join(dir, "fake-cli"), `#!/bin/sh\necho "fake-cli 1.0.0"\n`);
    chmodSync(join(dir, "fake-cli"), 0o755);
    const config = new Map<string, ConfigValue>([["backends.command.path", agent], ["backends.command.args", ["-x"]], ["backend", "command"]]);
    const list = await new BackendChecks({
      backends: { command: commandBackend, fake: versioned(null) },
      config: () => config,
      projectDir: tempDir(),
      veBinary: "/opt/ve/bin/ve",
      baseEnv: { PATH: `${dir}:${process.env.PATH}` },
    }).list();
    expect(list).toEqual([
      { name: "command", default: true, configured_path: agent, args: ["-x"], executable: agent, version: null, min_version: null, problem: null },
      {
        name: "fake",
        default: false,
        configured_path: null,
        args: [],
        executable: join(dir, "fake-cli"),
        version: "1.0.0",
        min_version: "2.0.0",
        problem: `The fake backend's program ${join(dir, "fake-cli")} is version 1.0.0, older than the 2.0.0 it needs; point \`ve orch config backends.fake.path\` at a newer one.`,
      },
    ]);
    // The command backend's own program is never run to ask its version.
    expect(existsSync(ran)).toBe(false);
  });
});
