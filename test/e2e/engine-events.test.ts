// The engine's changes as events, from a real daemon running the command backend: a run's
// start and end beside its unit's moves, an agent's question as attention.added with its
// options, the answer as attention.resolved, and the unit on to DONE.
import { describe, expect, test } from "bun:test";
import { VE, killQuietly } from "./harness.ts";
import { expectOk, useEngineProjects } from "./engine-harness.ts";

const e = useEngineProjects("ve-engine-events");

type Line = { id: number | null; event: string; data: Record<string, any> };

describe("engine events", () => {
  test("run.started/run.ended around each run, attention.added for the agent's question, attention.resolved for the answer", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, {
      asker: {
        IMPLEMENT: [
          [{ run: ["sh", "-c", '"$VE_BIN" agent ask "Tabs or spaces?" --option tabs --option spaces'] }],
          [{ write: { "style.txt": "spaces\n" } }],
        ],
        "*": [],
      },
    });
    const child = Bun.spawn([VE, "orch", "events", "--json", "--project-dir", dir], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    try {
      let out = "";
      const reading = (async () => {
        const decoder = new TextDecoder();
        for await (const piece of child.stdout) out += decoder.decode(piece, { stream: true });
      })();
      const lines = () => out.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Line);
      // Subscribed once it shows a change made after it started.
      for (let i = 0; !out.includes("marker-"); i++) {
        if (i > 100) throw new Error(`events never subscribed: ${out}`);
        expectOk(await e.ve(dir, ["orch", "work-unit", "create", `marker-${i}`]));
        await Bun.sleep(100);
      }
      expectOk(await e.ve(dir, ["orch", "inject", "asker", "--phase", "IMPLEMENT"]));
      await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "asker")?.status === "NEEDS_ATTENTION");
      const waiting = () => lines().some((l) => l.event === "attention.added");
      for (let i = 0; i < 100 && !waiting(); i++) await Bun.sleep(50);
      expectOk(await e.ve(dir, ["orch", "answer", "asker", "--option", "2"]));
      await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "asker")?.status === "DONE", 60_000);
      expectOk(await e.ve(dir, ["orch", "stop"]));
      expect(await child.exited).toBe(3);
      await reading;
      // The unit's worktree field set at its first run and cleared after landing is a change of
      // its own, without a status change; the order of the status changes is what is checked.
      const worktreeOnly = (l: Line) => l.event === "unit.changed" && l.data.old_status === l.data.new_status && l.data.old_phase === l.data.new_phase;
      const mine = lines().filter((l) => (l.data.chunk === "asker" || l.event === "shutdown") && !worktreeOnly(l));
      const names = mine.map((l) => (l.event.startsWith("unit.") ? `${l.event} ${l.data.new_status}` : l.event));
      const first = names.indexOf("run.started");
      expect(names.slice(0, 3)).toEqual(["unit.created READY", "unit.changed RUNNING", "run.started"]);
      expect(names.slice(first, first + 4)).toEqual(["run.started", "run.ended", "unit.changed NEEDS_ATTENTION", "attention.added"]);
      const resolved = names.indexOf("attention.resolved");
      expect(names.slice(resolved, resolved + 4)).toEqual(["attention.resolved", "unit.changed READY", "unit.changed RUNNING", "run.started"]);
      expect(names.at(-1)).toBe("shutdown");
      expect(names).toContain("unit.changed DONE");
      const added = mine.find((l) => l.event === "attention.added") as Line;
      expect(added.data.attention).toMatchObject({ kind: "question", question: "Tabs or spaces?", options: ["tabs", "spaces"] });
      const ended = mine.filter((l) => l.event === "run.ended").map((l) => l.data.run.outcome);
      expect(ended[0]).toBe("question");
      expect(ended).toContain("completed");
      // Every id above the one before.
      const ids = lines().filter((l) => l.id !== null).map((l) => l.id as number);
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe((ids[i - 1] as number) + 1);
    } finally {
      killQuietly(child.pid);
    }
  }, 120_000);
});
