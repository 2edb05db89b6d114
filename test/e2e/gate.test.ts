// The landing gate (issue 20): with `verify` set, what lands on the base is the exact merge
// commit that passed it, tested in a scratch worktree of its own. The headline case is the
// semantic conflict: two branches that each pass alone, merge cleanly as text, and break the
// base together.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GIT_ENV, expectOk, git, useEngineProjects } from "./engine-harness.ts";
import { waitFor } from "./harness.ts";

const e = useEngineProjects("ve-gate");
const TEST_MS = 150_000;

/** A project whose test runs every caller against lib.sh; a caller of a missing function fails, naming itself. */
const PROJECT = {
  "lib.sh": "greet() { echo hello; }\n",
  "callers/app.sh": "greet >/dev/null\n",
  "test.sh": [
    ". ./lib.sh",
    "for f in callers/*.sh; do",
    '  if . "./$f"; then echo "ok $f"; else echo "FAIL $f: it calls a function lib.sh does not define"; exit 1; fi',
    "done",
    "",
  ].join("\n"),
};
const VERIFY = "sh test.sh";

/** A renames greet() to hello() and updates its callers; B adds a caller of greet() (and its fix calls hello()). */
const RENAME = [{ write: { "lib.sh": "hello() { echo hello; }\n", "callers/app.sh": "hello >/dev/null\n" } }];
const NEW_CALLER = { "callers/b.sh": "greet >/dev/null\n" };
const FIXED_CALLER = { "callers/b.sh": "hello >/dev/null\n" };

/** Whether `sh test.sh` passes on the tree of `commit` (checked out in a directory of its own). */
function passesAt(dir: string, commit: string): boolean {
  const scratch = mkdtempSync(join(tmpdir(), "ve-gate-check-"));
  try {
    const tar = Bun.spawnSync(["sh", "-c", `git archive ${commit} | tar -x -C '${scratch}'`], { cwd: dir, env: { ...process.env, ...GIT_ENV } });
    if (tar.exitCode !== 0) throw new Error(`git archive ${commit}: ${tar.stderr.toString()}`);
    return Bun.spawnSync(["sh", "-c", VERIFY], { cwd: scratch }).exitCode === 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The files of `base` with `changes` written over them pass the test on their own. */
function passesWith(dir: string, base: string, changes: Record<string, string>): boolean {
  const scratch = mkdtempSync(join(tmpdir(), "ve-gate-alone-"));
  try {
    Bun.spawnSync(["sh", "-c", `git archive ${base} | tar -x -C '${scratch}'`], { cwd: dir, env: { ...process.env, ...GIT_ENV } });
    for (const [path, content] of Object.entries(changes)) writeFileSync(join(scratch, path), content);
    return Bun.spawnSync(["sh", "-c", VERIFY], { cwd: scratch }).exitCode === 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface Prompt {
  chunk: string;
  phase: string;
  attempt: number;
  prompt: string;
}

function prompts(script: string): Prompt[] {
  if (!existsSync(`${script}.prompts`)) return [];
  return readFileSync(`${script}.prompts`, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Prompt);
}

/** A lands first; B starts its work once the test has seen A DONE, so B's candidate is main+A+B. */
async function semanticConflict(config: Record<string, string>) {
  const { dir, script } = e.repo(PROJECT);
  const initial = git(dir, "rev-parse", "main");
  const aLanded = `${script}.a-landed`;
  await e.start(
    dir,
    script,
    {
      a: { IMPLEMENT: [RENAME], "*": [] },
      b: { IMPLEMENT: [{ wait_for_file: aLanded }, { write: NEW_CALLER }], COMPLETE: [[], [{ write: FIXED_CALLER }]], "*": [] },
    },
    config,
  );
  expectOk(await e.ve(dir, ["orch", "inject", "a", "b", "--phase", "IMPLEMENT"]));
  await waitFor(async () => (await e.units(dir)).find((u) => u.chunk === "a")?.status === "DONE", 60_000, 50);
  writeFileSync(aLanded, "");
  const units = await e.waitUnits(dir, (us) => us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"), 90_000);
  return { dir, script, initial, units };
}

describe("the landing gate", () => {
  test("semantic conflict: with verify, A lands, B's candidate fails, B's fix run names the failing test, B lands; every first-parent commit on main passes", async () => {
    const { dir, script, initial, units } = await semanticConflict({ verify: VERIFY });
    // Each branch passes alone; the text merges cleanly.
    expect(passesWith(dir, initial, { "lib.sh": "hello() { echo hello; }\n", "callers/app.sh": "hello >/dev/null\n" })).toBe(true);
    expect(passesWith(dir, initial, NEW_CALLER)).toBe(true);
    expect(units.map((u) => [u.chunk, u.status])).toEqual([
      ["a", "DONE"],
      ["b", "DONE"],
    ]);
    const fix = prompts(script).find((p) => p.chunk === "b" && p.phase === "COMPLETE" && p.attempt === 2);
    expect(fix?.prompt).toContain("callers/b.sh");
    expect(fix?.prompt).toContain("FAIL callers/b.sh");
    expect(fix?.prompt).toContain("ve/b");
    expect(fix?.prompt).toMatch(/candidate [0-9a-f]{12}/);
    const firstParents = git(dir, "rev-list", "--first-parent", "main").split("\n");
    expect(firstParents.length).toBe(3);
    for (const commit of firstParents) expect({ commit, passes: passesAt(dir, commit) }).toEqual({ commit, passes: true });
    expect(readFileSync(join(dir, "callers/b.sh"), "utf8")).toBe(FIXED_CALLER["callers/b.sh"]);
    // No scratch worktree is left behind.
    expect(git(dir, "worktree", "list").split("\n")).toHaveLength(1);
    // Each gate kept its log; the red one holds the failing caller.
    const logs = readdirSync(join(dir, ".ve", "gates")).filter((f) => f.endsWith(".jsonl"));
    expect(logs.length).toBeGreaterThanOrEqual(3);
    expect(logs.some((f) => readFileSync(join(dir, ".ve", "gates", f), "utf8").includes("FAIL callers/b.sh"))).toBe(true);
  }, TEST_MS);

  test("semantic conflict without verify: both land and main is red (why the gate exists)", async () => {
    const { dir, units } = await semanticConflict({});
    expect(units.map((u) => u.status)).toEqual(["DONE", "DONE"]);
    expect(passesAt(dir, git(dir, "rev-parse", "main"))).toBe(false);
    expect(existsSync(join(dir, ".ve", "gates"))).toBe(false);
  }, TEST_MS);

  test("inject --verify gates one unit: red past retries.gate is gate attention with the log's end, nothing landed, no scratch worktree left", async () => {
    const { dir, script } = e.repo();
    const before = git(dir, "rev-parse", "main");
    await e.start(dir, script, { a: { IMPLEMENT: [{ write: { "a.txt": "a\n" } }], "*": [] } }, { "retries.gate": "0" });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT", "--verify", "echo checking $VE_CHUNK at $VE_CANDIDATE token=${VE_RUN_TOKEN:-none}; test -f b.txt"]));
    const [a] = await e.waitUnits(dir, (us) => us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"));
    expect(a?.status).toBe("NEEDS_ATTENTION");
    expect(a?.attention?.kind).toBe("gate");
    expect(a?.attention?.reason).toMatch(/checking a at [0-9a-f]{40} token=none/);
    expect(a?.attention?.reason).toContain("ve orch retry a");
    expect(git(dir, "rev-parse", "main")).toBe(before);
    expect(git(dir, "worktree", "list").split("\n")).toHaveLength(2); // the checkout and a's own worktree
  }, TEST_MS);

  test("a gate run past verify_timeout_s is ended with its process group; the attention names the limit", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, { a: { IMPLEMENT: [{ write: { "a.txt": "a\n" } }], "*": [] } }, { verify: "sleep 121.5 & echo started; wait", verify_timeout_s: "1" });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [a] = await e.waitUnits(dir, (us) => us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"));
    expect(a?.attention?.kind).toBe("gate");
    expect(a?.attention?.code).toBe("gate_limit");
    expect(a?.attention?.reason).toContain("verify_timeout_s (1 s)");
    expect(await waitFor(() => !Bun.spawnSync(["pgrep", "-f", "sleep 121.5"]).stdout.toString().trim(), 5000)).toBe(true);
  }, TEST_MS);

  test("a flaky verify (fails every other run) does not block: the same candidate is run once more and lands", async () => {
    const { dir, script } = e.repo();
    const counter = `${script}.verify-count`;
    const verify = `n=$(cat '${counter}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '${counter}'; echo "run $n"; [ $((n % 2)) -eq 0 ]`;
    await e.start(dir, script, { a: { IMPLEMENT: [{ write: { "a.txt": "a\n" } }], "*": [] } }, { verify });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [a] = await e.waitUnits(dir, (us) => us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"));
    expect(a?.status).toBe("DONE");
    expect(readFileSync(counter, "utf8").trim()).toBe("2");
    expect(existsSync(`${script}.counts/a.COMPLETE`) ? readFileSync(`${script}.counts/a.COMPLETE`, "utf8") : "").toBe("1");
  }, TEST_MS);
});
