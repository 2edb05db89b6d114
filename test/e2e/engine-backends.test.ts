// The engine's side of a backend whose program is missing or too old: the unit needs a person,
// and its attention record says how to install or configure the program, how to test the fix
// (`ve orch backend check`) and how to go on (`ve orch retry`); nothing is retried by itself.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { AGENT, expectOk, useEngineProjects } from "./engine-harness.ts";
import { json } from "./harness.ts";

const e = useEngineProjects("ve-engine-backends");
const TEST_MS = 90_000;

interface RunJson {
  outcome: string | null;
  reason: string | null;
  backend: string;
  backend_version: string | null;
}

describe("a backend whose program is missing", () => {
  test("is an attention record saying how to configure it; after the fix, retry runs the unit", async () => {
    const { dir, script } = e.repo();
    const nowhere = join(dir, "no-such-agent");
    await e.start(dir, script, { "*": { "*": [] } }, { "backends.command.path": nowhere });
    expectOk(await e.ve(dir, ["orch", "inject", "parser", "--phase", "IMPLEMENT"]));
    const [unit] = await e.waitUnits(dir, (us) => us[0]?.status === "NEEDS_ATTENTION");
    expect(unit?.attention?.kind).toBe("error");
    const reason = unit?.attention?.reason ?? "";
    expect(reason).toContain(`${nowhere} does not exist or is not executable`);
    expect(reason).toContain("`ve orch config backends.command.path /path/to/program`");
    expect(reason).toContain("`ve orch backend check command`");
    expect(reason).toContain("`ve orch retry parser`");
    const runs = json<{ runs: RunJson[] }>(await e.ve(dir, ["orch", "runs", "--json"])).runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]?.outcome).toBe("failed");
    expect(runs[0]?.reason).toContain(nowhere);

    // The fix the record names, then the retry it names: the phase runs and the unit moves on.
    expectOk(await e.ve(dir, ["orch", "config", "backends.command.path", process.execPath]));
    expectOk(await e.ve(dir, ["orch", "config", "backends.command.args", JSON.stringify([AGENT, script])]));
    expectOk(await e.ve(dir, ["orch", "retry", "parser"]));
    const [after] = await e.waitUnits(dir, (us) => us[0]?.phase === "COMPLETE" || us[0]?.status === "DONE" || (us[0]?.status === "NEEDS_ATTENTION" && us[0]?.attention?.reason !== reason));
    expect(after?.attention).toBeNull();
  }, TEST_MS);
});

describe("a CLI backend whose program is not on the daemon's PATH", () => {
  test("claude and codex units need attention saying how to install or configure each; nothing is retried", async () => {
    const { dir } = e.repo();
    // No claude or codex there; ve's own directory is put first by the engine anyway.
    expectOk(await e.ve(dir, ["orch", "start"], { PATH: "/usr/bin:/bin" }));
    expectOk(await e.ve(dir, ["orch", "inject", "with-claude", "--phase", "IMPLEMENT", "--backend", "claude"]));
    expectOk(await e.ve(dir, ["orch", "inject", "with-codex", "--phase", "IMPLEMENT", "--backend", "codex"]));
    const units = await e.waitUnits(dir, (us) => us.length === 2 && us.every((u) => u.status === "NEEDS_ATTENTION"));
    const reasons = Object.fromEntries(units.map((u) => [u.chunk, u.attention?.reason]));
    expect(reasons).toEqual({
      "with-claude":
        "The claude backend's program claude is not on the daemon's PATH (the PATH of the shell that started it, which a program installed since does not change); install it with `npm install -g @anthropic-ai/claude-code`, or set `ve orch config backends.claude.path /path/to/claude`; if `which claude` finds it in your shell, `ve orch restart` from that shell gives the daemon its PATH. Then `ve orch backend check claude` tests it and `ve orch retry with-claude` runs the unit again.",
      "with-codex":
        "The codex backend's program codex is not on the daemon's PATH (the PATH of the shell that started it, which a program installed since does not change); install it with `npm install -g @openai/codex`, or set `ve orch config backends.codex.path /path/to/codex`; if `which codex` finds it in your shell, `ve orch restart` from that shell gives the daemon its PATH. Then `ve orch backend check codex` tests it and `ve orch retry with-codex` runs the unit again.",
    });
    const runs = json<{ runs: RunJson[] }>(await e.ve(dir, ["orch", "runs", "--json"])).runs;
    expect(runs.map((r) => [r.backend, r.outcome]).sort()).toEqual([["claude", "failed"], ["codex", "failed"]]);
  }, TEST_MS);
});
