// A daemon killed with its git mid-command leaves `.lock` files: the next daemon removes those
// in ve's own worktrees and branches (else the unit's every commit fails on them) and reports,
// never removes, those in the user's part of the repository.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, realpathSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectOk, killDaemon, useEngineProjects } from "./engine-harness.ts";
import { waitFor } from "./harness.ts";

const e = useEngineProjects("ve-stale-locks");
const TEST_MS = 120_000;
const HOUR_S = 3600;

function staleFile(path: string): void {
  writeFileSync(path, "");
  const anHourAgo = Date.now() / 1000 - HOUR_S;
  utimesSync(path, anHourAgo, anHourAgo);
}

describe("stale git locks at start", () => {
  test(
    "kill -9 mid-run, then a stale index.lock in the unit's worktree and a stale packed-refs.lock: the next daemon removes the first (the unit lands DONE) and reports the second with its rm command",
    async () => {
      const { dir, script } = e.repo();
      // The first run hangs until the daemon is killed; the resumed one writes and ends.
      await e.start(dir, script, { a: { IMPLEMENT: [[{ write: { "a.txt": "first\n" } }, { hang: true }], [{ write: { "a.txt": "a\n" } }]] } });
      expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
      expect(await waitFor(() => existsSync(`${script}.record`) && readFileSync(`${script}.record`, "utf8").includes("start a IMPLEMENT"), 60_000)).toBe(true);
      await killDaemon(dir);

      const gitDir = join(realpathSync(dir), ".git");
      expect(readdirSync(join(gitDir, "worktrees"))).toEqual(["a"]);
      const indexLock = join(gitDir, "worktrees", "a", "index.lock");
      const branchLock = join(gitDir, "refs", "heads", "ve", "a.lock");
      const packedLock = join(gitDir, "packed-refs.lock");
      for (const lock of [indexLock, branchLock, packedLock]) staleFile(lock);

      expectOk(await e.ve(dir, ["orch", "start"]));
      const units = await e.waitUnits(dir, (us) => us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"));
      expect(units.map((u) => [u.chunk, u.status, u.attention?.reason ?? null])).toEqual([["a", "DONE", null]]);
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
      expect(existsSync(indexLock)).toBe(false);
      expect(existsSync(branchLock)).toBe(false);
      expect(existsSync(packedLock)).toBe(true);

      const log = readFileSync(join(dir, ".ve", "orchestrator.log"), "utf8");
      expect(log).toContain(`removed the stale git lock ${indexLock}`);
      expect(log).toContain(`removed the stale git lock ${branchLock}`);
      expect(log).toContain(`stale git lock ${packedLock}`);
      expect(log).toContain(`\`rm '${packedLock}'\``);
      expect(log).not.toContain(`removed the stale git lock ${packedLock}`);
    },
    TEST_MS,
  );
});
