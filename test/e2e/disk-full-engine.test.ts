// The disk under a project fills up while a unit's agent runs: the engine cannot commit the
// phase (git: "No space left on device") and may not be able to write its own database. The
// unit must not stay RUNNING forever: once space is back it waits in `error` attention coded
// `storage_full`, and `ve orch retry` finishes it.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processesWithCwdInside } from "../../src/platform/process.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { useTmpfs } from "../helpers/tmpfs.ts";
import { expectOk, git, initRepo, useEngineProjects } from "./engine-harness.ts";
import { waitFor } from "./harness.ts";

const e = useEngineProjects("ve-disk-full-engine");
const mountTmpfs = useTmpfs();
const scratch = useTempDirs("ve-disk-full-engine-scripts");

describe("the disk fills up while a unit runs", () => {
  test("the phase commit fails for lack of space: NEEDS_ATTENTION error storage_full once space is back (never RUNNING forever); retry lands it", async () => {
    const fs = mountTmpfs(16 * 1024 * 1024);
    if (typeof fs === "string") {
      console.log(`skipped: ${fs}`);
      return;
    }
    const dir = e.track(join(fs.dir, "project"));
    initRepo(dir);
    const script = join(scratch(), "script.json");
    const gate = `${script}.gate`;
    try {
      await e.start(dir, script, {
        a: { IMPLEMENT: [[{ write: { "a.txt": "a\n" } }, { wait_for_file: gate }], [{ write: { "a.txt": "a\n" } }]] },
      });
      expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
      expect(await waitFor(() => existsSync(`${script}.record`) && readFileSync(`${script}.record`, "utf8").includes("start a IMPLEMENT"), 30_000)).toBe(true);
      const filler = fs.fill();
      writeFileSync(gate, "");
      // The agent ends; the engine's commit (and perhaps its database) meets the full disk.
      expect(await waitFor(() => readFileSync(`${script}.record`, "utf8").includes("end a IMPLEMENT"), 30_000)).toBe(true);
      // Nothing can be observed while the disk is full (the daemon's own log and database are on
      // it): the engine is given a moment to meet it before space is freed.
      await Bun.sleep(1500);
      rmSync(filler);
      const [unit] = await e.waitUnits(dir, (us) => us[0]?.status === "NEEDS_ATTENTION", 30_000);
      expect(unit?.status).toBe("NEEDS_ATTENTION");
      const attention = unit?.attention as { kind: string; reason: string; code?: string } | null;
      expect(attention?.kind).toBe("error");
      expect(attention?.code).toBe("storage_full");
      expect(attention?.reason).toContain("full");
      expect(attention?.reason).toContain("ve orch retry a");
      expectOk(await e.ve(dir, ["orch", "retry", "a"]));
      const [done] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || (us[0]?.status === "NEEDS_ATTENTION" && us[0]?.attention?.reason !== attention?.reason), 60_000);
      expect([done?.status, done?.attention]).toEqual(["DONE", null]);
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
      expect(git(dir, "status", "--porcelain")).toBe("");
      expectOk(await e.ve(dir, ["orch", "stop"]));
    } finally {
      for (const pid of processesWithCwdInside(dir)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    }
  }, 150_000);
});
