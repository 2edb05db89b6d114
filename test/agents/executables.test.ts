// A backend's program: found, its version read, and held against the backend's minimum.
import { describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { installHint, parseVersion, readVersion, requireMinVersion, resolveExecutable } from "../../src/agents/executables.ts";
import { compareVersions } from "../../src/version.ts";
import { VeError } from "../../src/errors.ts";
import { useTempDirs } from "../helpers/temp.ts";

const tempDir = useTempDirs("ve-executables");
const ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

function program(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function thrown(work: () => unknown): VeError {
  try {
    work();
  } catch (error) {
    if (error instanceof VeError) return error;
    throw error;
  }
  throw new Error("nothing was thrown");
}

describe("versions", () => {
  test("the first major.minor.patch of what the CLIs print", () => {
    expect(parseVersion("2.1.328 (Claude Code)\n")).toBe("2.1.328");
    expect(parseVersion("codex-cli 0.169.0\n")).toBe("0.169.0");
    expect(parseVersion("tool 1.2.3-beta.1 build 7")).toBe("1.2.3-beta.1");
    expect(parseVersion("no version here")).toBeNull();
  });

  test("are ordered by number, not by text; a pre-release before its release", () => {
    expect(compareVersions("2.1.10", "2.1.9")).toBeGreaterThan(0);
    expect(compareVersions("0.9.0", "0.10.0")).toBeLessThan(0);
    expect(compareVersions("1.2.3", "1.2.3")).toBe(0);
    expect(compareVersions("1.2.3-rc.1", "1.2.3")).toBeLessThan(0);
    expect(compareVersions("1.2.3", "1.2.3-rc.1")).toBeGreaterThan(0);
  });

  test("an older program is backend_too_old saying how to upgrade or configure it; equal, newer or unknown pass", () => {
    const error = thrown(() => requireMinVersion("claude", "/opt/claude", "2.0.9", "2.1.0"));
    expect(error.code).toBe("backend_too_old");
    expect(error.message).toBe(
      "The claude backend's program /opt/claude is version 2.0.9, older than the 2.1.0 it needs; upgrade it with `npm install -g @anthropic-ai/claude-code@latest`, or point `ve orch config backends.claude.path` at a newer one.",
    );
    expect(error.details).toEqual({ backend: "claude", program: "/opt/claude", version: "2.0.9", min_version: "2.1.0" });
    requireMinVersion("claude", "/opt/claude", "2.1.0", "2.1.0");
    requireMinVersion("claude", "/opt/claude", "3.0.0", "2.1.0");
    requireMinVersion("claude", "/opt/claude", null, "2.1.0");
    requireMinVersion("command", "/bin/agent", "0.0.1", undefined);
  });

  test("readVersion runs --version (stdout or stderr), keeps what it read, and reads an upgraded file again", async () => {
    const dir = tempDir();
    const counter = join(dir, "count");
    const path = program(dir, "cli", `echo x >> ${counter}; echo "cli 1.4.2"`);
    expect(await readVersion(path, ENV)).toBe("1.4.2");
    expect(await readVersion(path, ENV)).toBe("1.4.2");
    expect(await Bun.file(counter).text()).toBe("x\n");
    // Replaced in place (another size): read again.
    program(dir, "cli", `echo "cli 1.5.0 (new)" >&2`);
    expect(await readVersion(path, ENV)).toBe("1.5.0");
    expect(await readVersion(program(dir, "silent", "exit 3"), ENV)).toBeNull();
    expect(await readVersion(join(dir, "absent"), ENV)).toBeNull();
  });
});

describe("finding the program", () => {
  test("a CLI missing from the PATH says how to install it or configure its path", async () => {
    let error: unknown;
    try {
      await resolveExecutable("codex", undefined, "codex", tempDir());
    } catch (e) {
      error = e;
    }
    expect((error as VeError).code).toBe("backend_missing");
    expect((error as VeError).message).toBe(
      "The codex backend's program codex is not on the daemon's PATH (the PATH of the shell that started it, which a program installed since does not change); install it with `npm install -g @openai/codex`, or set `ve orch config backends.codex.path /path/to/codex`; if `which codex` finds it in your shell, `ve orch restart` from that shell gives the daemon its PATH.",
    );
    expect(installHint("command")).toBe("set it with `ve orch config backends.command.path /path/to/program`");
  });

  test("a relative path is taken from the daemon's directory (the project's) and given back absolute, so the agent's worktree does not change its meaning", async () => {
    const path = program(tempDir(), "my-agent", "exit 0");
    const relativePath = relative(process.cwd(), path);
    expect(relativePath.startsWith("/")).toBe(false);
    expect(await resolveExecutable("command", relativePath, undefined, "")).toBe(path);
  });
});
