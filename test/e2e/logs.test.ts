// `ve orch logs`: the daemon's log, whether or not it runs; -n, --json, and -f.
import { describe, expect, test } from "bun:test";
import { LogLines } from "../../src/models/index.ts";
import { VE, jsonOf, killQuietly, stateFiles, useProjects, waitFor } from "./harness.ts";

const { project, ve } = useProjects("ve-logs");

const TIMESTAMPED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (INFO|WARN|ERROR|DEBUG|FATAL) /;

describe("logs", () => {
  test("-n 5 after start shows the 'listening' line; --json is LogLines", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);

    const logs = await ve(dir, ["orch", "logs", "-n", "5"]);
    expect(logs.code).toBe(0);
    const lines = logs.stdout.trimEnd().split("\n");
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines.some((line) => line.includes(`listening on ${stateFiles(dir).socket}`))).toBe(true);
    for (const line of lines) expect(line).toMatch(TIMESTAMPED);

    const doc = jsonOf(LogLines, await ve(dir, ["orch", "logs", "--json"]));
    expect(doc.log).toBe(stateFiles(dir).log);
    expect(doc.lines.some((line) => line.includes("listening"))).toBe(true);
    expect(doc.lines.some((line) => line.includes("starting ve"))).toBe(true);

    const one = jsonOf(LogLines, await ve(dir, ["orch", "logs", "-n", "1", "--json"]));
    expect(one.lines).toHaveLength(1);
    expect(one.lines[0]).toBe(doc.lines.at(-1));
  });

  test("-f with --json is a usage error (exit 2)", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    for (const args of [["-f", "--json"], ["--follow", "--json"]]) {
      const r = await ve(dir, ["orch", "logs", ...args]);
      expect(r.code).toBe(2);
    }
  });

  test("works without a running daemon: after a stop it shows the stop; before any start, nothing", async () => {
    const dir = project();
    const never = await ve(dir, ["orch", "logs", "--json"]);
    expect(never.code).toBe(0);
    expect(jsonOf(LogLines, never).lines).toEqual([]);
    const human = await ve(dir, ["orch", "logs"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe("");
    expect(human.stderr).toContain("ve orch start");

    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
    const after = await ve(dir, ["orch", "logs", "-n", "3"]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain("SIGTERM received; stopping");
    expect(after.stdout).toContain("stopped");
  });

  test("-f prints new lines as the daemon writes them and ends cleanly on Ctrl-C", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    const follower = Bun.spawn([VE, "orch", "logs", "-f", "-n", "1", "--project-dir", dir], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    let out = "";
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of follower.stdout) out += decoder.decode(chunk, { stream: true });
    })();
    try {
      expect(await waitFor(() => out.includes("listening"))).toBe(true);
      expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
      expect(await waitFor(() => out.includes("SIGTERM received; stopping") && out.includes("stopped"))).toBe(true);
      follower.kill("SIGINT");
      expect(await follower.exited).toBe(0);
      await reading;
    } finally {
      killQuietly(follower.pid);
    }
  });
});
