// --json where it used to be missing: `start --foreground --json` (one document once the daemon
// answers, its log on stderr), `ve --version --json`, and a repeated --json refused like any
// other repeated flag.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ErrorBody, StartResult } from "../../src/models/index.ts";
import { VE, jsonOf, killQuietly, useProjects, waitFor } from "./harness.ts";

const { project, ve, trackPid } = useProjects("ve-json-gaps");

describe("start --foreground --json", () => {
  test("prints one StartResult once the daemon answers; log on stderr; exit code of the daemon", async () => {
    const dir = project();
    const daemon = Bun.spawn([VE, "orch", "start", "--foreground", "--json", "--project-dir", dir], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    trackPid(daemon.pid);
    const stdout = new Response(daemon.stdout).text();
    const stderr = new Response(daemon.stderr).text();
    try {
      expect(await waitFor(async () => (await ve(dir, ["orch", "status"])).code === 0)).toBe(true);
      daemon.kill("SIGTERM");
      expect(await daemon.exited).toBe(0);
      const out = await stdout;
      expect(out.trim().split("\n")).toHaveLength(1);
      const doc = jsonOf(StartResult, { code: 0, stdout: out, stderr: "", ms: 0 });
      expect(doc).toMatchObject({ already_running: false, daemon: { pid: daemon.pid, project_dir: dir, running: true } });
      expect(await stderr).toContain("listening on");
    } finally {
      killQuietly(daemon.pid);
    }
  });

  test("a foreground daemon that cannot run prints one error document and exits non-zero", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    const second = await ve(dir, ["orch", "start", "--foreground", "--json"]);
    expect(second.code).toBe(1);
    expect(second.stdout.trim().split("\n")).toHaveLength(1);
    expect(jsonOf(ErrorBody, second).error.code).toBe("daemon_start_failed");
    expect(second.stderr).toContain("another ve daemon");
  });
});

describe("ve --version --json", () => {
  test("version, commit, build time and target of this binary", async () => {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dir, "../../package.json"), "utf8")) as { version: string };
    const r = await ve(null, ["--version", "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(["built_at", "commit", "target", "version"]);
    expect(doc.version).toBe(pkg.version);
    // A compiled binary knows what it was built from (src/version.ts gets them from build.ts).
    expect(typeof doc.commit).toBe("string");
    expect(typeof doc.built_at).toBe("string");
    expect(doc.target).toMatch(/^[a-z]+-[a-z0-9]+/);
    const plain = await ve(null, ["--version"]);
    expect(plain.stdout.trim()).toBe(pkg.version);
  });
});

test("--json twice is a usage error, like every other repeated flag", async () => {
  const dir = project();
  for (const args of [
    ["orch", "ps", "--json", "--json"],
    ["orch", "status", "--json", "--json=true"],
  ]) {
    const r = await ve(dir, args);
    expect(r.code).toBe(2);
    expect(jsonOf(ErrorBody, r).error.message).toContain("--json is given more than once");
  }
});
