// Git hooks and repository settings an agent plants in the repository's shared `.git/` (its
// config and hooks serve every worktree, the user's checkout included): the engine's own git
// never runs them, and the unit waits for a person, naming what changed.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectOk, git, useEngineProjects } from "./engine-harness.ts";
import { waitFor } from "./harness.ts";

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

  test("a filter driver planted while a run goes on is run by no git of ve's for another unit (its worktree, its commit, its landing): that unit waits naming the driver; a person's retry takes the settings as they are then", async () => {
    const { dir, script } = e.repo();
    const marker = `${script}.filter-ran`;
    const gate = `${script}.gate`;
    const plant = [
      `common=$(git rev-parse --path-format=absolute --git-common-dir)`,
      `mkdir -p "$common/info"`,
      `echo '* filter=evil' >> "$common/info/attributes"`,
      `git config filter.evil.clean 'sh -c "echo clean >> ${marker}; cat"'`,
      `git config filter.evil.smudge 'sh -c "echo smudge >> ${marker}; cat"'`,
    ].join(" && ");
    await e.start(dir, script, {
      a: { IMPLEMENT: [[{ run: ["sh", "-c", plant] }, { wait_for_file: gate }, { write: { "a.txt": "a\n" } }]], "*": [] },
      c: { IMPLEMENT: [{ write: { "c.txt": "c\n" } }], "*": [] },
    });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    await waitFor(() => readFileSync(join(dir, ".git", "config"), "utf8").includes("evil"), 30_000);
    expectOk(await e.ve(dir, ["orch", "inject", "c", "--phase", "IMPLEMENT"]));
    const held = (await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "c")?.status === "NEEDS_ATTENTION")).find((u) => u.chunk === "c");
    expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toBe("");
    expect(held?.attention?.kind).toBe("error");
    expect(held?.attention?.code).toBe("settings_changed");
    expect(held?.attention?.reason).toContain("filter.evil.clean=");
    expect(held?.attention?.reason).toContain("ve orch retry c");
    expect(git(dir, "log", "--format=%s", "main")).toBe("initial");
    // A person looks and removes what they did not make; a retry trusts what is there then.
    git(dir, "config", "--remove-section", "filter.evil");
    rmSync(join(dir, ".git", "info", "attributes"));
    expectOk(await e.ve(dir, ["orch", "retry", "c"]));
    writeFileSync(gate, "");
    const done = await e.waitUnits(dir, (us) => us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"));
    expect(done.map((u) => [u.chunk, u.status])).toEqual([
      ["a", "DONE"],
      ["c", "DONE"],
    ]);
    expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toBe("");
  }, ENGINE_TEST_MS);

  test("a setting a person keeps: the retry trusts the settings as they are, and the unit lands without being held again", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, {
      a: { IMPLEMENT: [[{ write: { "a.txt": "a\n" } }, { run: ["sh", "-c", "git config diff.tool vimdiff"] }], [{ append: { "a.txt": "again\n" } }]], "*": [] },
    });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [held] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(held?.attention?.code).toBe("settings_changed");
    expect(held?.attention?.reason).toContain("diff.tool=vimdiff");
    expectOk(await e.ve(dir, ["orch", "retry", "a"]));
    const [landed] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(landed?.status).toBe("DONE");
    expect(git(dir, "config", "diff.tool")).toBe("vimdiff");
  }, ENGINE_TEST_MS);
});
