// A daemon killed at the worst moments around a landing, and a repository left in a state a
// crash or an agent made: the next daemon finishes what was landed (once), cleans its own git
// locks, reports the user's, and notices a base that was rewound under it.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectOk, git, killDaemon, useEngineProjects } from "./engine-harness.ts";
import { killQuietly, waitFor } from "./harness.ts";

const e = useEngineProjects("ve-landing-recovery");
const TEST_MS = 120_000;

function realGit(): string {
  const found = Bun.which("git");
  if (!found) throw new Error("git is not on the PATH");
  return found;
}

/**
 * A `git` for the daemon's PATH that runs the real one, and once the command matches `pattern`
 * (a bash `[[ "$*" == PATTERN ]]` glob), writes its pid to `marker` after the real command
 * finished and then sleeps: the daemon is caught right after that step.
 */
function gitShim(dir: string, pattern: string, marker: string): string {
  mkdirSync(dir, { recursive: true });
  const script = `#!/bin/bash
"${realGit()}" "$@"
code=$?
if [[ "$*" == ${pattern} ]]; then
  echo $$ > "${marker}"
  exec sleep 600
fi
exit $code
`;
  writeFileSync(join(dir, "git"), script);
  chmodSync(join(dir, "git"), 0o755);
  return dir;
}

describe("landing recovery", () => {
  test("kill -9 after the landing's merge is on main and the branch deleted, before DONE: the next daemon finishes it DONE once and releases its dependent", async () => {
    const { dir, script } = e.repo();
    const marker = `${script}.caught`;
    const shim = gitShim(`${script}.bin`, '"update-ref -d refs/heads/ve/a "*', marker);
    writeFileSync(script, "{}");
    const scriptBody = { a: { IMPLEMENT: [{ write: { "a.txt": "a\n" } }] }, b: { IMPLEMENT: [{ write: { "b.txt": "b\n" } }] } };
    await e.start(dir, script, scriptBody);
    // The daemon started above has the plain PATH: restart it with the shim first on its PATH.
    expectOk(await e.ve(dir, ["orch", "stop"]));
    expectOk(await e.ve(dir, ["orch", "start"], { PATH: `${shim}:${process.env.PATH}` }));
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    expectOk(await e.ve(dir, ["orch", "inject", "b", "--phase", "IMPLEMENT", "--blocked-by", "a"]));
    expect(await waitFor(() => existsSync(marker), 60_000)).toBe(true);
    await killDaemon(dir);
    killQuietly(Number.parseInt(readFileSync(marker, "utf8"), 10));
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    expect(git(dir, "branch", "--list", "ve/a")).toBe("");

    expectOk(await e.ve(dir, ["orch", "start"]));
    const units = await e.waitUnits(dir, (us) => us.length === 2 && us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"));
    expect(units.map((u) => [u.chunk, u.status, u.attention?.reason ?? null])).toEqual([
      ["a", "DONE", null],
      ["b", "DONE", null],
    ]);
    const lands = git(dir, "log", "--merges", "--format=%s", "main").split("\n");
    expect(lands).toEqual(["Land b (ve)", "Land a (ve)"]);
    expect(git(dir, "log", "-1", "--format=%(trailers:key=Ve-Chunk,valueonly)", "main")).toBe("b");
    expect(git(dir, "status", "--porcelain")).toBe("");
  }, TEST_MS);
});
