import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processesWithCwdInside } from "../../src/platform/process.ts";
import { GIT_ENV, git, expectOk, killDaemon, useEngineProjects } from "./engine-harness.ts";
import { VE, json, waitFor } from "./harness.ts";

const e = useEngineProjects();
const ENGINE_TEST_MS = 120_000;

function phaseFiles(chunk: string) {
  return { GOAL: [{ write: { [`${chunk}/goal.txt`]: "g\n" } }], PLAN: [{ write: { [`${chunk}/plan.txt`]: "p\n" } }], IMPLEMENT: [{ write: { [`${chunk}/impl.txt`]: "i\n" } }], COMPLETE: [{ write: { [`${chunk}/done.txt`]: "d\n" } }] };
}

function records(script: string): { what: string; chunk: string; phase: string; at: number }[] {
  if (!existsSync(`${script}.record`)) return [];
  return readFileSync(`${script}.record`, "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const [what, chunk, phase, , at] = line.split(" ");
      return { what: what as string, chunk: chunk as string, phase: phase as string, at: Number(at) };
    });
}

describe("the engine", () => {
  test("a diamond injected at once lands on main in dependency order, one merge per unit, the checkout clean", async () => {
    const { dir, script } = e.repo();
    for (const chunk of ["a", "b", "c", "d"]) {
      writeFileSync(join(dir, `${chunk}.md`), "");
    }
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "placeholders");
    await e.start(dir, script, Object.fromEntries(["a", "b", "c", "d"].map((c) => [c, phaseFiles(c)])));
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--goal", "the base"]));
    expectOk(await e.ve(dir, ["orch", "inject", "b", "c", "--blocked-by", "a"]));
    expectOk(await e.ve(dir, ["orch", "inject", "d", "--blocked-by", "b,c"]));
    const units = await e.waitUnits(dir, (us) => us.length === 4 && us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"));
    expect(units.map((u) => [u.chunk, u.status])).toEqual([["a", "DONE"], ["b", "DONE"], ["c", "DONE"], ["d", "DONE"]]);
    for (const chunk of ["a", "b", "c", "d"]) {
      for (const file of ["goal", "plan", "impl", "done"]) expect(readFileSync(join(dir, chunk, `${file}.txt`), "utf8")).toBeTruthy();
    }
    const merges = git(dir, "log", "--merges", "--format=%s", "main").split("\n");
    expect(merges).toHaveLength(4);
    // Landed in dependency order: a first, d last.
    expect(merges.at(-1)).toContain("a");
    expect(merges[0]).toContain("d");
    expect(git(dir, "status", "--porcelain")).toBe("");
    expect(git(dir, "branch", "--list", "ve/*")).toBe("");
    expect(git(dir, "worktree", "list").split("\n")).toHaveLength(1);
    const shown = json<{ history: { new_phase: string }[] }>(await e.ve(dir, ["orch", "work-unit", "show", "d", "--json"]));
    expect(new Set(shown.history.map((h) => h.new_phase))).toEqual(new Set(["GOAL", "PLAN", "IMPLEMENT", "COMPLETE"]));
  }, ENGINE_TEST_MS);

  test("a unit's worktree field names its worktree while it is in flight, and is null once it landed and the worktree is gone", async () => {
    const { dir, script } = e.repo();
    const gate = `${script}.gate`;
    await e.start(dir, script, { a: { IMPLEMENT: [{ write: { "a.txt": "a\n" } }, { wait_for_file: gate }], "*": [] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const worktree = join(dir, ".ve", "worktrees", "a");
    const [running] = await e.waitUnits(dir, (us) => us[0]?.status === "RUNNING" && us[0]?.worktree !== null);
    expect(running?.worktree).toBe(worktree);
    writeFileSync(gate, "");
    const [done] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(done?.status).toBe("DONE");
    expect(done?.worktree).toBeNull();
    expect(existsSync(worktree)).toBe(false);
  }, ENGINE_TEST_MS);

  test("tail of a run whose log was deleted says so on stderr instead of printing nothing", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, { a: { "*": [{ print: "hello from a" }] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "COMPLETE"]));
    await e.waitUnits(dir, (us) => us[0]?.status === "DONE");
    const shown = await e.ve(dir, ["orch", "tail", "a"]);
    expectOk(shown);
    expect(shown.stdout).toContain("hello from a");
    rmSync(join(dir, ".ve", "runs", "a"), { recursive: true, force: true });
    const gone = await e.ve(dir, ["orch", "tail", "a"]);
    expectOk(gone);
    expect(gone.stdout).toBe("");
    expect(gone.stderr).toContain("is gone");
  }, ENGINE_TEST_MS);

  test("tail -f right after inject waits for the unit's first run and follows it to its end; a tracked unit with no runs is refused", async () => {
    const { dir, script } = e.repo();
    const gate = `${script}.gate`;
    await e.start(dir, script, { a: { "*": [{ wait_for_file: gate }] }, b: { "*": [{ print: "hello from b" }] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "COMPLETE"]));
    expectOk(await e.ve(dir, ["orch", "inject", "b", "--phase", "COMPLETE", "--blocked-by", "a"]));
    // b cannot run before a's gate opens, so this tail starts with no run to show.
    const tail = Bun.spawn([VE, "orch", "tail", "b", "-f", "--project-dir", dir], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    try {
      let stderr = "";
      const readingErr = (async () => {
        for await (const piece of tail.stderr) stderr += new TextDecoder().decode(piece);
      })();
      const stdout = new Response(tail.stdout).text();
      expect(await waitFor(() => stderr.includes("waiting for the first run of 'b'"), 20_000)).toBe(true);
      writeFileSync(gate, "");
      expect(await tail.exited).toBe(0);
      await readingErr;
      expect(await stdout).toContain("hello from b");
    } finally {
      tail.kill("SIGKILL");
    }
    expectOk(await e.ve(dir, ["orch", "work-unit", "create", "notes"]));
    const tracked = await e.ve(dir, ["orch", "tail", "notes", "-f"]);
    expect(tracked.code).toBe(1);
    expect(tracked.stderr).toContain("only tracked");
  }, ENGINE_TEST_MS);

  test("max_agents = 2 with 12 independent units: never more than 2 agents alive, all 12 land", async () => {
    const { dir, script } = e.repo();
    const chunks = Array.from({ length: 12 }, (_, i) => `u${i}`);
    // Each IMPLEMENT run takes 300 ms, so two slots are both in use for most of the test.
    await e.start(dir, script, Object.fromEntries(chunks.map((c) => [c, { IMPLEMENT: [{ write: { [`${c}.txt`]: "x\n" } }, { sleep_ms: 300 }], "*": [] }])), { max_agents: "2" });
    expectOk(await e.ve(dir, ["orch", "inject", ...chunks, "--phase", "IMPLEMENT"]));
    const units = await e.waitUnits(dir, (us) => us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"), 90_000);
    expect(units.filter((u) => u.status !== "DONE").map((u) => [u.chunk, u.status, u.attention?.reason])).toEqual([]);
    let alive = 0;
    let most = 0;
    for (const r of records(script).sort((x, y) => x.at - y.at || (x.what === "end" ? -1 : 1))) {
      alive += r.what === "start" ? 1 : -1;
      most = Math.max(most, alive);
    }
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBe(2);
    for (const c of chunks) expect(existsSync(join(dir, `${c}.txt`))).toBe(true);
  }, ENGINE_TEST_MS);

  test("two units editing the same lines: the second gets a resolution run naming the file, then lands", async () => {
    const { dir, script } = e.repo({ "shared.txt": "one\ntwo\nthree\n" });
    // x lands first; y's edit of the same line conflicts; its resolution run merges main and keeps both.
    const resolve = [
      { git: ["merge", "main"] },
      { write: { "shared.txt": "one\nX and Y\nthree\n" } },
      { git: ["add", "-A"] },
      { git: ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--no-edit"] },
    ];
    await e.start(dir, script, {
      x: { IMPLEMENT: [{ write: { "shared.txt": "one\nX\nthree\n" } }] },
      y: { IMPLEMENT: [{ wait_for_file: `${script}.x-landed` }, { write: { "shared.txt": "one\nY\nthree\n" } }], COMPLETE: [[], resolve] },
    });
    expectOk(await e.ve(dir, ["orch", "inject", "x", "y", "--phase", "IMPLEMENT"]));
    await waitFor(async () => (await e.units(dir)).find((u) => u.chunk === "x")?.status === "DONE", 60_000, 50);
    writeFileSync(`${script}.x-landed`, "");
    const units = await e.waitUnits(dir, (us) => us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"));
    expect(units.map((u) => u.status)).toEqual(["DONE", "DONE"]);
    expect(readFileSync(join(dir, "shared.txt"), "utf8")).toBe("one\nX and Y\nthree\n");
    const prompts = readFileSync(`${script}.prompts`, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { chunk: string; phase: string; attempt: number; prompt: string });
    const resolution = prompts.find((p) => p.chunk === "y" && p.phase === "COMPLETE" && p.attempt === 2);
    expect(resolution?.prompt).toContain("- shared.txt");
    expect(resolution?.prompt).toContain("git merge main");
  }, ENGINE_TEST_MS);

  test("a conflict the agent cannot resolve ends in NEEDS_ATTENTION conflict after two tries, branch and worktree intact", async () => {
    const { dir, script } = e.repo({ "shared.txt": "one\n" });
    await e.start(dir, script, {
      x: { IMPLEMENT: [{ write: { "shared.txt": "X\n" } }] },
      y: { IMPLEMENT: [{ wait_for_file: `${script}.go` }, { write: { "shared.txt": "Y\n" } }] },
    });
    expectOk(await e.ve(dir, ["orch", "inject", "x", "y", "--phase", "IMPLEMENT"]));
    await waitFor(async () => (await e.units(dir)).find((u) => u.chunk === "x")?.status === "DONE", 60_000, 50);
    writeFileSync(`${script}.go`, "");
    const units = await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "y")?.status === "NEEDS_ATTENTION");
    const y = units.find((u) => u.chunk === "y");
    expect(y?.attention?.kind).toBe("conflict");
    expect(y?.attention?.reason).toContain("shared.txt");
    expect(git(dir, "branch", "--list", "ve/y")).toContain("ve/y");
    expect(existsSync(join(dir, ".ve", "worktrees", "y", "shared.txt"))).toBe(true);
    const runs = json<{ runs: { chunk: string; purpose: string }[] }>(await e.ve(dir, ["orch", "runs", "y", "--json"])).runs;
    expect(runs.filter((r) => r.purpose === "resolve")).toHaveLength(2);
  }, ENGINE_TEST_MS);

  test("a resolution run that leaves conflict markers (unresolved, or committed as they are) never lands them: NEEDS_ATTENTION, main clean", async () => {
    for (const resolution of [[{ git: ["merge", "main"] }], [{ git: ["merge", "main"] }, { git: ["commit", "-qam", "resolved?"] }]]) {
      const { dir, script } = e.repo({ "shared.txt": "one\n" });
      await e.start(dir, script, {
        x: { IMPLEMENT: [{ write: { "shared.txt": "X\n" } }] },
        y: { IMPLEMENT: [{ wait_for_file: `${script}.go` }, { write: { "shared.txt": "Y\n" } }], COMPLETE: [[], resolution] },
      });
      expectOk(await e.ve(dir, ["orch", "inject", "x", "y", "--phase", "IMPLEMENT"]));
      await waitFor(async () => (await e.units(dir)).find((u) => u.chunk === "x")?.status === "DONE", 60_000, 50);
      writeFileSync(`${script}.go`, "");
      const units = await e.waitUnits(dir, (us) => ["NEEDS_ATTENTION", "DONE"].includes(us.find((u) => u.chunk === "y")?.status ?? ""));
      const y = units.find((u) => u.chunk === "y");
      expect(y?.status).toBe("NEEDS_ATTENTION");
      expect(y?.attention?.reason).toContain("conflict markers");
      expect(y?.attention?.reason).toContain("shared.txt");
      expect(readFileSync(join(dir, "shared.txt"), "utf8")).toBe("X\n");
      expect(git(dir, "log", "--format=%s", "-1", "main")).toBe("Land x (ve)");
    }
  }, ENGINE_TEST_MS);

  test("the base checked out with an untracked file where the unit adds one: NEEDS_ATTENTION merge naming it and `git stash -u`; after the stash, retry lands it; unrelated edits are kept", async () => {
    const { dir, script } = e.repo();
    writeFileSync(join(dir, "README.md"), "my unsaved edit\n");
    writeFileSync(join(dir, "a.txt"), "mine\n");
    await e.start(dir, script, { a: { IMPLEMENT: [{ write: { "a.txt": "a\n" } }] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [a] = await e.waitUnits(dir, (us) => us[0]?.status === "NEEDS_ATTENTION" || us[0]?.status === "DONE");
    expect(a?.attention?.kind).toBe("merge");
    expect(a?.attention?.reason).toContain("a.txt");
    expect(a?.attention?.reason).not.toContain("README.md");
    expect(a?.attention?.reason).toContain("stash -u");
    expect(a?.attention?.reason).toContain("ve orch retry a");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("mine\n");
    git(dir, "stash", "-q", "-u");
    expectOk(await e.ve(dir, ["orch", "retry", "a"]));
    await e.waitUnits(dir, (us) => us[0]?.status === "DONE");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    expect(git(dir, "stash", "list").split("\n")).toHaveLength(1);
    expect(git(dir, "status", "--porcelain")).toBe("");
  }, ENGINE_TEST_MS);

  test("the base checked out with unrelated uncommitted and untracked work: the unit lands and the work is kept", async () => {
    const { dir, script } = e.repo();
    writeFileSync(join(dir, "README.md"), "my unsaved edit\n");
    writeFileSync(join(dir, "notes.txt"), "notes\n");
    await e.start(dir, script, { a: { IMPLEMENT: [{ write: { "a.txt": "a\n" } }] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [a] = await e.waitUnits(dir, (us) => us[0]?.status === "NEEDS_ATTENTION" || us[0]?.status === "DONE");
    expect(a?.status).toBe("DONE");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    expect(readFileSync(join(dir, "README.md"), "utf8")).toBe("my unsaved edit\n");
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("notes\n");
  }, ENGINE_TEST_MS);

  test("the base being rebased in the user's checkout: NEEDS_ATTENTION merge, the rebase untouched and able to finish; then retry lands it", async () => {
    const { dir, script } = e.repo();
    writeFileSync(join(dir, "mine.txt"), "1\n");
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "mine 1");
    writeFileSync(join(dir, "mine.txt"), "2\n");
    git(dir, "commit", "-q", "-am", "mine 2");
    // Stopped at its first pick: HEAD detached, the status clean, main written when it ends.
    const rebase = Bun.spawnSync(["git", "rebase", "-i", "HEAD~2"], { cwd: dir, env: { ...process.env, ...GIT_ENV, GIT_SEQUENCE_EDITOR: "sed -i 1s/^pick/edit/" } });
    expect(rebase.exitCode).toBe(0);
    const before = git(dir, "rev-parse", "main");
    await e.start(dir, script, { a: { IMPLEMENT: [{ write: { "a.txt": "a\n" } }] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT", "--base", "main"]));
    const [a] = await e.waitUnits(dir, (us) => us[0]?.status === "NEEDS_ATTENTION" || us[0]?.status === "DONE");
    expect(a?.attention?.kind).toBe("merge");
    expect(a?.attention?.reason).toContain("rebase");
    expect(git(dir, "rev-parse", "main")).toBe(before);
    git(dir, "rebase", "--continue");
    expect(git(dir, "branch", "--show-current")).toBe("main");
    expectOk(await e.ve(dir, ["orch", "retry", "a"]));
    await e.waitUnits(dir, (us) => us[0]?.status === "DONE");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    expect(git(dir, "log", "--first-parent", "--format=%s", "main").split("\n").slice(0, 3)).toEqual(["Land a (ve)", "mine 2", "mine 1"]);
    expect(git(dir, "status", "--porcelain")).toBe("");
  }, ENGINE_TEST_MS);

  test("an agent that moves its worktree off the unit's branch: nothing is committed or landed, NEEDS_ATTENTION error; back on the branch, retry lands the work", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, {
      a: { IMPLEMENT: [[{ git: ["switch", "-q", "--detach"] }, { write: { "a.txt": "a\n" } }], [{ append: { "a.txt": "again\n" } }]], "*": [] },
    });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [a] = await e.waitUnits(dir, (us) => us[0]?.status === "NEEDS_ATTENTION" || us[0]?.status === "DONE");
    expect(a?.status).toBe("NEEDS_ATTENTION");
    expect(a?.attention?.kind).toBe("error");
    expect(a?.attention?.reason).toContain("detached HEAD instead of ve/a");
    expect(a?.attention?.reason).toContain("ve orch retry a");
    const worktree = join(dir, ".ve", "worktrees", "a");
    expect(readFileSync(join(worktree, "a.txt"), "utf8")).toBe("a\n");
    expect(existsSync(join(dir, "a.txt"))).toBe(false);
    git(worktree, "switch", "-q", "ve/a");
    expectOk(await e.ve(dir, ["orch", "retry", "a"]));
    await e.waitUnits(dir, (us) => us[0]?.status === "DONE");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\nagain\n");
  }, ENGINE_TEST_MS);

  test("kill -9 of the daemon while agents run: the next start ends the orphans, closes the runs interrupted, and they land", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, {
      stubborn: { IMPLEMENT: [[{ ignore_sigterm: true }, { print: "up" }, { hang: true }], [{ write: { "s.txt": "s\n" } }]] },
      parent: { IMPLEMENT: [[{ grandchild: true }, { print: "up" }, { hang: true }], [{ write: { "p.txt": "p\n" } }]] },
    });
    expectOk(await e.ve(dir, ["orch", "inject", "stubborn", "parent", "--phase", "IMPLEMENT"]));
    const worktrees = join(dir, ".ve", "worktrees");
    expect(await waitFor(() => processesWithCwdInside(worktrees).length >= 3, 30_000)).toBe(true);
    await killDaemon(dir);
    expect(processesWithCwdInside(worktrees).length).toBeGreaterThanOrEqual(3);
    expectOk(await e.ve(dir, ["orch", "start"]));
    const units = await e.waitUnits(dir, (us) => us.every((u) => u.status === "DONE" || u.status === "NEEDS_ATTENTION"));
    expect(units.map((u) => u.status)).toEqual(["DONE", "DONE"]);
    expect(processesWithCwdInside(worktrees)).toEqual([]);
    const runs = json<{ runs: { chunk: string; outcome: string }[] }>(await e.ve(dir, ["orch", "runs", "--json"])).runs;
    expect(runs.filter((r) => r.outcome === "interrupted").map((r) => r.chunk).sort()).toEqual(["parent", "stubborn"]);
    expect(readFileSync(join(dir, "s.txt"), "utf8")).toBe("s\n");
  }, ENGINE_TEST_MS);

  test("ve orch stop ends every run and leaves the units READY; the next start resumes and lands them", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, { a: { IMPLEMENT: [[{ ignore_sigterm: true }, { grandchild: true }, { hang: true }], [{ write: { "a.txt": "a\n" } }]] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const worktree = join(dir, ".ve", "worktrees", "a");
    expect(await waitFor(() => processesWithCwdInside(worktree).length >= 2, 30_000)).toBe(true);
    expectOk(await e.ve(dir, ["orch", "stop"]));
    expect(processesWithCwdInside(worktree)).toEqual([]);
    expectOk(await e.ve(dir, ["orch", "start"]));
    const [unit] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE");
    expect(unit?.status).toBe("DONE");
    const runs = json<{ runs: { outcome: string }[] }>(await e.ve(dir, ["orch", "runs", "--json"])).runs;
    expect(runs[0]?.outcome).toBe("interrupted");
  }, ENGINE_TEST_MS);

  test("time and silence limits end a hanging agent and its grandchild; retries follow the caps, then NEEDS_ATTENTION", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, {
      slow: { IMPLEMENT: [{ grandchild: true }, { tick_ms: 100 }, { hang: true }] },
      quiet: { IMPLEMENT: [{ grandchild: true }, { sleep_ms: 600_000 }] },
    }, { run_timeout_s: "2", silence_timeout_s: "1", "retries.timeout": "1" });
    expectOk(await e.ve(dir, ["orch", "inject", "slow", "quiet", "--phase", "IMPLEMENT"]));
    const units = await e.waitUnits(dir, (us) => us.every((u) => u.status === "NEEDS_ATTENTION"), 60_000);
    expect(units.map((u) => u.attention?.kind)).toEqual(["error", "error"]);
    const runs = json<{ runs: { chunk: string; outcome: string; started_at: string; ended_at: string; reason: string }[] }>(await e.ve(dir, ["orch", "runs", "--json"])).runs;
    for (const chunk of ["slow", "quiet"]) {
      const own = runs.filter((r) => r.chunk === chunk);
      expect(own.map((r) => r.outcome)).toEqual(["timeout", "timeout"]);
    }
    // The limit (silence 1 s for "quiet", which prints nothing; 2 s for "slow", which ticks)
    // counts from the spawn: never ended sooner after the run began (the daemon's clock, set
    // before the spawn), and within a second after the agent's own start (which follows the
    // spawn by the agent's start-up, long on a loaded machine) the ladder has ended it.
    const starts = records(script).filter((r) => r.what === "start");
    for (const chunk of ["slow", "quiet"]) {
      const limit = chunk === "quiet" ? 1000 : 2000;
      const own = runs.filter((r) => r.chunk === chunk);
      const began = starts.filter((r) => r.chunk === chunk).map((r) => r.at);
      expect(began).toHaveLength(2);
      own.forEach((r, i) => {
        const end = Date.parse(r.ended_at);
        expect(end - Date.parse(r.started_at), `${chunk} run ${i}: from its start`).toBeGreaterThanOrEqual(limit);
        expect(end - (began[i] as number), `${chunk} run ${i}: from its agent's start`).toBeLessThan(limit + 1000);
      });
    }
    expect(processesWithCwdInside(join(dir, ".ve", "worktrees"))).toEqual([]);
  }, ENGINE_TEST_MS);
});

describe("the engine refuses and recovers", () => {
  test("a repository with no commits, or no repository at all: inject says what to do", async () => {
    const empty = e.project();
    git(empty, "init", "-q", "-b", "main");
    expectOk(await e.ve(empty, ["orch", "start"]));
    const refused = await e.ve(empty, ["orch", "inject", "a"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("no commit yet");
    const plain = e.project();
    expectOk(await e.ve(plain, ["orch", "start"]));
    const noGit = await e.ve(plain, ["orch", "inject", "a"]);
    expect(noGit.code).toBe(1);
    expect(noGit.stderr).toContain("not a git repository");
    // Tracking needs no git, and a project without it has no engine worktrees to list.
    expectOk(await e.ve(plain, ["orch", "work-unit", "create", "a"]));
    const listed = await e.ve(plain, ["orch", "worktree", "list", "--json"]);
    expectOk(listed);
    expect(json<{ worktrees: unknown[] }>(listed).worktrees).toEqual([]);
    expectOk(await e.ve(plain, ["orch", "worktree", "prune", "--apply"]));
  }, ENGINE_TEST_MS);

  test("worktree prune keeps an orphaned worktree that holds uncommitted work, saying so, and removes a clean one", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, { "*": { IMPLEMENT: [{ print: "up" }, { hang: true }] } });
    expectOk(await e.ve(dir, ["orch", "inject", "dirty", "clean", "--phase", "IMPLEMENT"]));
    await e.waitUnits(dir, (us) => us.length === 2 && us.every((u) => u.status === "RUNNING"));
    // RUNNING comes with the claim, before the worktree is made: wait for both agents to run in theirs.
    expect(await waitFor(() => new Set(records(script).filter((r) => r.what === "start").map((r) => r.chunk)).size === 2, 30_000, 20)).toBe(true);
    for (const chunk of ["dirty", "clean"]) expectOk(await e.ve(dir, ["orch", "work-unit", "delete", chunk, "--force"]));
    const dirty = join(dir, ".ve", "worktrees", "dirty");
    writeFileSync(join(dirty, "unsaved.txt"), "work\n");
    const preview = json<{ worktrees: { path: string }[]; refused: { path: string; reason: string }[] }>(await e.ve(dir, ["orch", "worktree", "prune", "--json"]));
    expect(preview.worktrees.map((w) => w.path)).toEqual([join(dir, ".ve", "worktrees", "clean")]);
    expect(preview.refused.map((r) => r.path)).toEqual([dirty]);
    expect(preview.refused[0]?.reason).toContain("unsaved.txt");
    const applied = await e.ve(dir, ["orch", "worktree", "prune", "--apply"]);
    expectOk(applied);
    expect(applied.stdout).toContain(`kept ${dirty}`);
    expect(readFileSync(join(dirty, "unsaved.txt"), "utf8")).toBe("work\n");
    expect(existsSync(join(dir, ".ve", "worktrees", "clean"))).toBe(false);
  }, ENGINE_TEST_MS);

  test("backends.command.path ./my-agent (the README's example: a script in the project, not committed) runs in the unit's worktree", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, {});
    writeFileSync(join(dir, "my-agent"), '#!/bin/sh\necho "$VE_PHASE" >> "phases-$VE_CHUNK.txt"\n', { mode: 0o755 });
    writeFileSync(join(dir, ".git", "info", "exclude"), "my-agent\n");
    expectOk(await e.ve(dir, ["orch", "config", "backends.command.path", "./my-agent"]));
    expectOk(await e.ve(dir, ["orch", "config", "--unset", "backends.command.args"]));
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [a] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(a?.attention?.reason ?? "").toBe("");
    expect(readFileSync(join(dir, "phases-a.txt"), "utf8")).toBe("IMPLEMENT\nCOMPLETE\n");
  }, ENGINE_TEST_MS);

  test("a chunk whose branch exists already is refused, naming the branch", async () => {
    const { dir, script } = e.repo();
    git(dir, "branch", "ve/a");
    await e.start(dir, script, {});
    const refused = await e.ve(dir, ["orch", "inject", "a"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("ve/a exists already");
    expect(await e.units(dir)).toEqual([]);
  }, ENGINE_TEST_MS);

  test("a worktree deleted by hand comes back from its branch; .worktreeinclude files are copied; a path with spaces works", async () => {
    const { dir, script } = e.repo({ "README.md": "x\n", ".gitignore": ".env\n", ".worktreeinclude": ".env\n" }, "my project");
    writeFileSync(join(dir, ".env"), "SECRET=1\n");
    await e.start(dir, script, {
      a: {
        PLAN: [[{ write: { "plan.txt": "p\n" } }, { run: ["sh", "-c", "cp .env seen-env.txt"] }, { exit: 7 }], [{ write: { "plan2.txt": "p2\n" } }]],
        "*": [],
      },
    }, { "retries.failed": "1" });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "PLAN"]));
    // The first PLAN run fails; while it waits for its retry, delete the worktree by hand.
    await waitFor(() => existsSync(join(dir, ".ve", "worktrees", "a", "seen-env.txt")), 30_000);
    await waitFor(async () => (await e.units(dir))[0]?.status !== "RUNNING", 30_000, 20);
    rmSync(join(dir, ".ve", "worktrees", "a"), { recursive: true, force: true });
    const [unit] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(unit?.status).toBe("DONE");
    expect(readFileSync(join(dir, "plan2.txt"), "utf8")).toBe("p2\n");
    expect(existsSync(join(dir, "seen-env.txt"))).toBe(false);
  }, ENGINE_TEST_MS);
});
