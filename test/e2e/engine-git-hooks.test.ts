// Git hooks and repository settings an agent plants in the repository's shared `.git/` (its
// config and hooks serve every worktree, the user's checkout included): the engine's own git
// never runs them, and the unit waits for a person, naming what changed.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { expectOk, git, useEngineProjects } from "./engine-harness.ts";

const e = useEngineProjects("ve-git-hooks");
const ENGINE_TEST_MS = 120_000;

describe("hooks and settings an agent plants in the shared .git", () => {
  test("a post-commit hook and core.fsmonitor planted by the agent never run under ve's git; the unit waits in attention naming both; removed, retry lands", async () => {
    const { dir, script } = e.repo();
    const hookMarker = `${script}.post-commit-ran`;
    const monitorMarker = `${script}.fsmonitor-ran`;
    const monitor = `${script}.fsmonitor.sh`;
    const plant = [
      `common=$(git rev-parse --path-format=absolute --git-common-dir)`,
      `printf '#!/bin/sh\\necho "$PWD" >> ${hookMarker}\\n' > "$common/hooks/post-commit"`,
      `chmod +x "$common/hooks/post-commit"`,
      `printf '#!/bin/sh\\necho "$PWD" >> ${monitorMarker}\\nexit 1\\n' > ${monitor}`,
      `chmod +x ${monitor}`,
      // Last: the agent's own git after this would run the monitor itself.
      `git config core.fsmonitor ${monitor}`,
    ].join(" && ");
    await e.start(dir, script, {
      a: { IMPLEMENT: [[{ write: { "a.txt": "a\n" } }, { run: ["sh", "-c", plant] }], [{ append: { "a.txt": "again\n" } }]], "*": [] },
    });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [a] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect({ hook: existsSync(hookMarker), fsmonitor: existsSync(monitorMarker) }).toEqual({ hook: false, fsmonitor: false });
    expect(a?.status).toBe("NEEDS_ATTENTION");
    expect(a?.attention?.kind).toBe("error");
    expect(a?.attention?.reason).toContain(`core.fsmonitor=${monitor}`);
    expect(a?.attention?.reason).toContain("hooks/post-commit");
    expect(a?.attention?.reason).toContain("ve orch retry a");
    // Nothing of the run was committed, and main did not move.
    expect(git(dir, "log", "--format=%s", "main")).toBe("initial");
    // A person removes them (or keeps them: what a retry starts from is the new baseline).
    rmSync(join(dir, ".git", "hooks", "post-commit"));
    git(dir, "config", "--unset", "core.fsmonitor");
    expectOk(await e.ve(dir, ["orch", "retry", "a"]));
    const [landed] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(landed?.status).toBe("DONE");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\nagain\n");
    expect({ hook: existsSync(hookMarker), fsmonitor: existsSync(monitorMarker) }).toEqual({ hook: false, fsmonitor: false });
  }, ENGINE_TEST_MS);

  test("hooks the user installed in .git/hooks before the run do not run under ve's git either, and are no change to report", async () => {
    const { dir, script } = e.repo();
    const marker = `${script}.hook-ran`;
    for (const hook of ["post-commit", "post-checkout", "post-merge", "reference-transaction"]) {
      const path = join(dir, ".git", "hooks", hook);
      await Bun.write(path, `#!/bin/sh\necho ${hook} >> ${marker}\n`);
      Bun.spawnSync(["chmod", "+x", path]);
    }
    await e.start(dir, script, { a: { IMPLEMENT: [{ write: { "a.txt": "a\n" } }] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [a] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(a?.status).toBe("DONE");
    expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toBe("");
  }, ENGINE_TEST_MS);
});
