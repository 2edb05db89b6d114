// `ve orch stop --drain` and the scheduler's order around landings, through the compiled dist/ve
// with the scripted agent.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectOk, useEngineProjects } from "./engine-harness.ts";
import { json, waitFor } from "./harness.ts";

const e = useEngineProjects("ve-drain");
const ENGINE_TEST_MS = 120_000;

function starts(script: string): string[] {
  if (!existsSync(`${script}.record`)) return [];
  return readFileSync(`${script}.record`, "utf8")
    .trim()
    .split("\n")
    .filter((line) => line.startsWith("start "))
    .map((line) => {
      const [, chunk, phase] = line.split(" ");
      return `${chunk} ${phase}`;
    });
}

interface RunJson {
  chunk: string;
  phase: string;
  outcome: string | null;
}

describe("ve orch stop --drain", () => {
  test("lets a running phase finish (completed, moved on, next phase not started), interrupts one still running after the bound; the next start lands both", async () => {
    const { dir, script } = e.repo();
    const go = `${script}.go`;
    await e.start(dir, script, {
      quick: { IMPLEMENT: [{ wait_for_file: go }, { sleep_ms: 300 }, { write: { "quick.txt": "q\n" } }] },
      stuck: { IMPLEMENT: [[{ print: "up" }, { hang: true }], [{ write: { "stuck.txt": "s\n" } }]] },
    });
    expectOk(await e.ve(dir, ["orch", "inject", "quick", "stuck", "--phase", "IMPLEMENT"]));
    expect(await waitFor(() => starts(script).length === 2, 30_000)).toBe(true);
    const log = join(dir, ".ve", "orchestrator.log");
    const began = Date.now();
    const stopping = e.ve(dir, ["orch", "stop", "--drain", "--timeout", "3"]);
    // Only once the daemon drains may quick finish: its next phase would start otherwise.
    expect(await waitFor(() => readFileSync(log, "utf8").includes("drain requested"), 30_000)).toBe(true);
    writeFileSync(go, "");
    const stopped = expectOk(await stopping);
    expect(Date.now() - began).toBeGreaterThanOrEqual(3000);
    expect(stopped.stdout).toContain("1 run finished, 1 run interrupted");
    expect(starts(script)).toEqual(expect.arrayContaining(["quick IMPLEMENT", "stuck IMPLEMENT"]));
    expect(starts(script)).toHaveLength(2);

    expectOk(await e.ve(dir, ["orch", "start"]));
    const runs = json<{ runs: RunJson[] }>(await e.ve(dir, ["orch", "runs", "--json"])).runs;
    // Oldest first: the two of the drain (the resumed one may have started since).
    expect(runs.slice(0, 2).map((r) => [r.chunk, r.phase, r.outcome]).sort()).toEqual([
      ["quick", "IMPLEMENT", "completed"],
      ["stuck", "IMPLEMENT", "interrupted"],
    ]);
    const units = await e.waitUnits(dir, (us) => us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"));
    expect(units.map((u) => [u.chunk, u.status])).toEqual([["quick", "DONE"], ["stuck", "DONE"]]);
    expect(readFileSync(join(dir, "quick.txt"), "utf8")).toBe("q\n");
    expect(readFileSync(join(dir, "stuck.txt"), "utf8")).toBe("s\n");
    // The drained unit went on with COMPLETE after the restart, never during the drain.
    expect(starts(script).slice(2)).toEqual(expect.arrayContaining(["quick COMPLETE", "stuck IMPLEMENT"]));
  }, ENGINE_TEST_MS);

  test("a drain whose phase finishes reports it (--json) and leaves the unit READY in its next phase, not started", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, { quick: { IMPLEMENT: [{ wait_for_file: `${script}.go` }] } });
    expectOk(await e.ve(dir, ["orch", "inject", "quick", "--phase", "IMPLEMENT"]));
    expect(await waitFor(() => starts(script).length === 1, 30_000)).toBe(true);
    const stopping = e.ve(dir, ["orch", "stop", "--drain", "--json"]);
    expect(await waitFor(() => readFileSync(join(dir, ".ve", "orchestrator.log"), "utf8").includes("drain requested"), 30_000)).toBe(true);
    writeFileSync(`${script}.go`, "");
    const doc = json<{ stopped: boolean; drained: { finished: number; interrupted: number } }>(expectOk(await stopping));
    expect(doc.stopped).toBe(true);
    expect(doc.drained).toEqual({ finished: 1, interrupted: 0 });
    expect(starts(script)).toEqual(["quick IMPLEMENT"]);
    // Read while no daemon runs (a start would run it at once): moved on to COMPLETE, READY.
    const db = new Database(join(dir, ".ve", "orchestrator.db"), { readonly: true });
    try {
      expect(db.query("SELECT phase, status FROM work_units WHERE chunk = 'quick'").get()).toEqual({ phase: "COMPLETE", status: "READY" });
    } finally {
      db.close();
    }
  }, ENGINE_TEST_MS);

  test("a drain that outlasts the daemon's request timeout keeps its connection to the end (issue 9 item 3)", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, { stuck: { IMPLEMENT: [[{ print: "up" }, { hang: true }], []] } });
    expectOk(await e.ve(dir, ["orch", "inject", "stuck", "--phase", "IMPLEMENT"]));
    expect(await waitFor(() => starts(script).length === 1, 30_000)).toBe(true);
    const began = Date.now();
    // Twice the 3 s in which a connection must deliver its request: the wait for the answer
    // is not counted (a nonzero Bun.serve idleTimeout cut it).
    const drained = expectOk(await e.ve(dir, ["orch", "stop", "--drain", "--timeout", "6"]));
    expect(Date.now() - began).toBeGreaterThanOrEqual(6000);
    expect(drained.stdout).toContain("0 runs finished, 1 run interrupted");
  }, ENGINE_TEST_MS);

  test("a plain stop overtakes a drain: the drain answers at once with the run interrupted, not at its bound", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, { stuck: { IMPLEMENT: [[{ print: "up" }, { hang: true }], []] } });
    expectOk(await e.ve(dir, ["orch", "inject", "stuck", "--phase", "IMPLEMENT"]));
    expect(await waitFor(() => starts(script).length === 1, 30_000)).toBe(true);
    const began = Date.now();
    const draining = e.ve(dir, ["orch", "stop", "--drain", "--timeout", "600"]);
    expect(await waitFor(() => readFileSync(join(dir, ".ve", "orchestrator.log"), "utf8").includes("drain requested"), 30_000)).toBe(true);
    expectOk(await e.ve(dir, ["orch", "stop"]));
    const drained = expectOk(await draining);
    // The drain answered (the SIGTERM ended its wait) rather than having its connection closed.
    expect(drained.stdout).toContain("0 runs finished, 1 run interrupted");
    expect(Date.now() - began).toBeLessThan(600_000);
    expectOk(await e.ve(dir, ["orch", "start"]));
    const runs = json<{ runs: RunJson[] }>(await e.ve(dir, ["orch", "runs", "--json"])).runs;
    expect(runs[0]?.outcome).toBe("interrupted");
  }, ENGINE_TEST_MS);

  test("with no daemon it says none was running; a daemon that cannot answer is left running, and the message says how to stop it", async () => {
    const { dir, script } = e.repo();
    const none = expectOk(await e.ve(dir, ["orch", "stop", "--drain"]));
    expect(none.stdout).toContain("ve daemon was not running");
    await e.start(dir, script, {});
    const pid = Number.parseInt(readFileSync(join(dir, ".ve", "orchestrator.pid"), "utf8"), 10);
    process.kill(pid, "SIGSTOP");
    try {
      const refused = await e.ve(dir, ["orch", "stop", "--drain", "--timeout", "1"]);
      expect(refused.code).not.toBe(0);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain(`The ve daemon (pid ${pid}) did not take the drain request, so it still runs and may act on the request later`);
      expect(refused.stderr).toContain("`ve orch stop` without --drain");
    } finally {
      process.kill(pid, "SIGCONT");
    }
    expectOk(await e.ve(dir, ["orch", "stop"]));
    expect((await e.ve(dir, ["orch", "status"])).code).toBe(3);
  }, ENGINE_TEST_MS);
});

describe("the scheduler's order", () => {
  test("a unit released by another's landing goes before an older independent one when it releases more (max_agents 1)", async () => {
    const { dir, script } = e.repo();
    const go = `${script}.go`;
    await e.start(dir, script, { hold: { COMPLETE: [{ wait_for_file: go }] }, "*": { "*": [] } }, { max_agents: "1" });
    // hold takes the only slot; old waits, older than the chain a -> b -> c.
    expectOk(await e.ve(dir, ["orch", "inject", "hold", "--phase", "COMPLETE"]));
    expect(await waitFor(() => starts(script).length === 1, 30_000)).toBe(true);
    expectOk(await e.ve(dir, ["orch", "inject", "old", "--phase", "COMPLETE"]));
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "COMPLETE"]));
    expectOk(await e.ve(dir, ["orch", "inject", "b", "--phase", "COMPLETE", "--blocked-by", "a"]));
    expectOk(await e.ve(dir, ["orch", "inject", "c", "--phase", "COMPLETE", "--blocked-by", "b"]));
    writeFileSync(go, "");
    const units = await e.waitUnits(dir, (us) => us.length === 5 && us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"));
    expect(units.filter((u) => u.status !== "DONE")).toEqual([]);
    const order = starts(script).map((s) => s.split(" ")[0]);
    // a releases two, b (released by a's landing) one, old none: b goes before old although old is older.
    expect(order.slice(0, 3)).toEqual(["hold", "a", "b"]);
    expect(order).toHaveLength(5);
    const runs = json<{ runs: RunJson[] }>(await e.ve(dir, ["orch", "runs", "--json"])).runs;
    expect(runs.map((r) => r.chunk).slice(0, 3)).toEqual(["hold", "a", "b"]);
  }, ENGINE_TEST_MS);
});
