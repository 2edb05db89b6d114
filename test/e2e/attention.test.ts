// The operator loop through the compiled binary with the scripted `command` agent: the
// attention queue, retrying one unit or all of them, answering a question (the next run gets
// the answer), the 409s of answering what does not wait on a question, a person's wait kept
// across restarts, and on_attention.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GIT_ENV, expectOk, useEngineProjects } from "./engine-harness.ts";
import { VE, json, waitFor } from "./harness.ts";

const e = useEngineProjects("ve-attention");
const ENGINE_TEST_MS = 120_000;

interface Entry {
  chunk: string;
  kind: string | null;
  reason: string;
  question: string | null;
  options: string[];
  since: string;
  waiting_s: number;
  run_id: string | null;
  releases: number;
  command: string;
}

interface ErrorDoc {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const attention = async (dir: string, ...extra: string[]) => json<{ attention: Entry[]; count: number }>(expectOk(await e.ve(dir, ["orch", "attention", "--json", ...extra])));

function prompts(script: string): { chunk: string; phase: string; attempt: number; prompt: string }[] {
  if (!existsSync(`${script}.prompts`)) return [];
  return readFileSync(`${script}.prompts`, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

function starts(script: string, chunk?: string): string[] {
  if (!existsSync(`${script}.record`)) return [];
  return readFileSync(`${script}.record`, "utf8")
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("start ") && (chunk === undefined || l.split(" ")[1] === chunk));
}

async function runsOf(dir: string, chunk: string): Promise<{ id: string; outcome: string | null }[]> {
  return json<{ runs: { id: string; outcome: string | null }[] }>(expectOk(await e.ve(dir, ["orch", "runs", chunk, "--json"]))).runs;
}

/** Turns a unit's waiting record into a question while no daemon runs (the agent side of asking is `ve agent ask`). */
function makeQuestion(dir: string, chunk: string, question: string, options: string[]): void {
  const db = new Database(join(dir, ".ve", "orchestrator.db"));
  try {
    const changed = db
      .query("UPDATE attention SET kind = 'question', question = ?, options = ?, reason = 'the agent asked a question' WHERE chunk = ?")
      .run(question, options.length > 0 ? JSON.stringify(options) : null, chunk);
    expect(changed.changes).toBe(1);
  } finally {
    db.close();
  }
}

/** `ve orch answer ...` with `input` on its stdin (a pipe, not a terminal). */
async function answerWithStdin(dir: string, args: string[], input: string) {
  const child = Bun.spawn([VE, "orch", "answer", ...args, "--project-dir", dir], {
    env: Object.fromEntries(
      Object.entries({ ...process.env, ...GIT_ENV, NO_COLOR: "1" }).filter((e): e is [string, string] => e[0] !== "VE_PROJECT_DIR" && e[1] !== undefined),
    ),
    stdin: new Blob([input]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr, ms: 0 };
}

describe("the attention queue", () => {
  test("a unit failing after its retries waits in the queue (what releases more first); retry runs it again with fresh counters", async () => {
    const { dir, script } = e.repo();
    await e.start(
      dir,
      script,
      {
        // hub fails twice (the first try and its one retry), then works once retried by a person.
        hub: { IMPLEMENT: [[{ stderr: "boom 1" }, { exit: 3 }], [{ stderr: "boom 2" }, { exit: 3 }], [{ write: { "hub.txt": "h\n" } }]], "*": [] },
        lone: { IMPLEMENT: [{ stderr: "lone fails" }, { exit: 4 }], "*": [] },
        "*": { "*": [] },
      },
      { "retries.failed": "1" },
    );
    // lone first, so it waits longer than hub: the queue still puts hub first (it releases two).
    expectOk(await e.ve(dir, ["orch", "inject", "lone", "--phase", "IMPLEMENT"]));
    await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "lone")?.status === "NEEDS_ATTENTION");
    expectOk(await e.ve(dir, ["orch", "inject", "hub", "--phase", "IMPLEMENT"]));
    expectOk(await e.ve(dir, ["orch", "inject", "mid", "--phase", "IMPLEMENT", "--blocked-by", "hub"]));
    expectOk(await e.ve(dir, ["orch", "inject", "leaf", "--phase", "IMPLEMENT", "--blocked-by", "mid"]));
    await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "hub")?.status === "NEEDS_ATTENTION");

    const queue = await attention(dir);
    expect(queue.attention.map((a) => [a.chunk, a.kind, a.releases])).toEqual([
      ["hub", "error", 2],
      ["lone", "error", 0],
    ]);
    const [hub, lone] = queue.attention as [Entry, Entry];
    const hubRuns = await runsOf(dir, "hub");
    expect(hubRuns.map((r) => r.outcome)).toEqual(["failed", "failed"]);
    expect(hub.run_id).toBe(hubRuns[1]?.id ?? "");
    expect(hub.reason).toContain("boom 2");
    expect(hub.command).toBe("ve orch retry hub");
    expect(hub.since < lone.since).toBe(false);
    expect(lone.waiting_s).toBeGreaterThanOrEqual(0);

    const shown = expectOk(await e.ve(dir, ["orch", "attention"])).stdout;
    expect(shown).toContain("2 units wait on a person");
    expect(shown.indexOf("hub")).toBeLessThan(shown.indexOf("lone"));
    expect(shown).toContain("releases 2");
    expect(shown).toContain("boom 2");
    expect(shown).toContain("-> ve orch retry hub");
    expect(shown).toContain(`run ${hub.run_id}`);
    expect((await attention(dir, "--kind", "question")).count).toBe(0);

    // The dependents wait on hub, BLOCKED; retry makes hub run again and everything lands.
    expect((await e.units(dir)).filter((u) => u.status === "BLOCKED").map((u) => u.chunk)).toEqual(["mid", "leaf"]);
    const retried = expectOk(await e.ve(dir, ["orch", "retry", "hub"]));
    expect(retried.stdout).toContain("Retrying hub: READY");
    await e.waitUnits(dir, (us) => ["hub", "mid", "leaf"].every((c) => us.find((u) => u.chunk === c)?.status === "DONE"));
    expect((await runsOf(dir, "hub")).map((r) => r.outcome).slice(0, 3)).toEqual(["failed", "failed", "completed"]);

    // retry --all --kind: lone again, and its counters are fresh: one more retry of its own.
    const before = starts(script, "lone").length;
    const all = json<{ retried: { chunk: string; status: string }[]; count: number }>(
      expectOk(await e.ve(dir, ["orch", "retry", "--all", "--kind", "error", "--json"])),
    );
    expect(all.retried.map((u) => [u.chunk, u.status])).toEqual([["lone", "READY"]]);
    await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "lone")?.status === "NEEDS_ATTENTION" && starts(script, "lone").length === before + 2);
    expect(starts(script, "lone").length).toBe(before + 2);

    // Nothing of that kind waits: a clear message, not a failure.
    const none = expectOk(await e.ve(dir, ["orch", "retry", "--all", "--kind", "merge"]));
    expect(none.stdout.trim()).toBe("Nothing to retry: no scheduled unit waits on a person for a reason of kind 'merge'.");
    expect(json<{ count: number }>(expectOk(await e.ve(dir, ["orch", "retry", "--all", "--kind", "merge", "--json"]))).count).toBe(0);
    const human = expectOk(await e.ve(dir, ["orch", "retry", "--all"]));
    expect(human.stdout).toContain("Retrying 1 unit:");
    expect(human.stdout).toContain("lone: READY");

    // Usage: CHUNK and --all together, neither, --kind without --all.
    for (const args of [["retry", "lone", "--all"], ["retry"], ["retry", "lone", "--kind", "error"]]) {
      const bad = await e.ve(dir, ["orch", ...args]);
      expect(bad.code).toBe(2);
    }
  }, ENGINE_TEST_MS);

  test("answering a question: option or text or stdin, the unit READY, its next run gets the question and the answer", async () => {
    const { dir, script } = e.repo();
    await e.start(
      dir,
      script,
      {
        db: { IMPLEMENT: [[{ exit: 1 }], [{ write: { "db.txt": "chosen\n" } }]], "*": [] },
        cache: { IMPLEMENT: [[{ exit: 1 }], [{ write: { "cache.txt": "chosen\n" } }]], "*": [] },
      },
      { "retries.failed": "0" },
    );
    expectOk(await e.ve(dir, ["orch", "inject", "db", "cache", "--phase", "IMPLEMENT"]));
    await e.waitUnits(dir, (us) => us.length === 2 && us.every((u) => u.status === "NEEDS_ATTENTION"));
    expectOk(await e.ve(dir, ["orch", "stop"]));
    makeQuestion(dir, "db", "Which database should the cache use?", ["sqlite", "postgres"]);
    makeQuestion(dir, "cache", "How long may an entry live?", []);
    expectOk(await e.ve(dir, ["orch", "start"]));

    const queue = await attention(dir);
    const db = queue.attention.find((a) => a.chunk === "db") as Entry;
    expect(db).toMatchObject({ kind: "question", question: "Which database should the cache use?", options: ["sqlite", "postgres"], command: "ve orch answer db --option N" });
    expect(queue.attention.find((a) => a.chunk === "cache")?.command).toBe('ve orch answer cache "ANSWER"');
    const shown = expectOk(await e.ve(dir, ["orch", "attention"])).stdout;
    expect(shown).toContain("Which database should the cache use?\n    1. sqlite\n    2. postgres\n");
    expect(shown).toContain('-> ve orch answer db --option N   or: ve orch answer db "ANSWER"');

    // An option out of range, both TEXT and --option, no answer at all: refused, nothing changes.
    const outOfRange = await e.ve(dir, ["orch", "answer", "db", "--option", "3", "--json"]);
    expect(outOfRange.code).toBe(1);
    const refusal = json<ErrorDoc>(outOfRange).error;
    expect(refusal.code).toBe("validation_failed");
    expect(refusal.message).toContain("choose 1-2");
    expect((await e.ve(dir, ["orch", "answer", "db", "x", "--option", "1"])).code).toBe(2);
    expect((await e.ve(dir, ["orch", "answer", "db", "--option", "0"])).code).toBe(2);
    const noText = await answerWithStdin(dir, ["cache"], "");
    expect(noText.code).toBe(2);
    expect(noText.stderr).toContain("stdin is empty");
    const noOptions = json<ErrorDoc>(await e.ve(dir, ["orch", "answer", "cache", "--option", "1", "--json"])).error;
    expect(noOptions.message).toContain("offers no options");
    expect((await e.units(dir)).map((u) => u.status)).toEqual(["NEEDS_ATTENTION", "NEEDS_ATTENTION"]);

    const answered = expectOk(await e.ve(dir, ["orch", "answer", "db", "--option", "2"]));
    expect(answered.stdout).toContain("Answered db: READY");
    const piped = expectOk(await answerWithStdin(dir, ["cache"], "One hour,\nthen refresh.\n"));
    expect(piped.stdout).toContain("Answered cache: READY");
    await e.waitUnits(dir, (us) => us.every((u) => u.status === "DONE"));

    // The command backend has no session to resume: the new run has the question and the answer.
    const second = (chunk: string) => prompts(script).find((p) => p.chunk === chunk && p.attempt === 2)?.prompt ?? "";
    expect(second("db").startsWith("The operator's answer:\n\npostgres\n")).toBe(true);
    expect(second("db")).toContain("> Which database should the cache use?");
    expect(second("cache").startsWith("The operator's answer:\n\nOne hour,\nthen refresh.\n")).toBe(true);
    expect(second("cache")).toContain("> How long may an entry live?");
    const history = json<{ history: { reason: string | null }[] }>(expectOk(await e.ve(dir, ["orch", "work-unit", "show", "db", "--json"]))).history;
    expect(history.some((h) => h.reason === "answered by a person: postgres")).toBe(true);
  }, ENGINE_TEST_MS);

  test("`ve agent ask` from a command agent: the unit waits with the question and options; the answer reaches the next run's prompt", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, {
      asker: {
        IMPLEMENT: [
          [{ run: ["sh", "-c", '"$VE_BIN" agent ask "Tabs or spaces?" --option tabs --option "spaces, four"'] }],
          [{ write: { "style.txt": "chosen\n" } }],
        ],
        "*": [],
      },
    });
    expectOk(await e.ve(dir, ["orch", "inject", "asker", "--phase", "IMPLEMENT"]));
    await e.waitUnits(dir, (us) => us[0]?.status === "NEEDS_ATTENTION" || us[0]?.status === "DONE");
    const [entry] = (await attention(dir)).attention;
    const [asked] = await runsOf(dir, "asker");
    expect(entry).toMatchObject({ chunk: "asker", kind: "question", question: "Tabs or spaces?", options: ["tabs", "spaces, four"], run_id: asked?.id });
    expect(asked?.outcome).toBe("question");
    expectOk(await e.ve(dir, ["orch", "answer", "asker", "--option", "2"]));
    await e.waitUnits(dir, (us) => us[0]?.status === "DONE");
    const second = prompts(script).find((p) => p.chunk === "asker" && p.phase === "IMPLEMENT" && p.attempt === 2)?.prompt ?? "";
    expect(second.startsWith("The operator's answer:\n\nspaces, four\n")).toBe(true);
    expect(second).toContain("> Tabs or spaces?");
  }, ENGINE_TEST_MS);

  test("every question and answer of a phase reaches its later runs: a retry after the answered run failed, `retry --fresh`; the next phase starts clean", async () => {
    const { dir, script } = e.repo();
    const ask = (question: string) => ({ run: ["sh", "-c", `"$VE_BIN" agent ask '${question}'`] });
    await e.start(
      dir,
      script,
      {
        // auto: two questions, then the run after the second answer crashes; its automatic retry works.
        auto: { PLAN: [[ask("Which store?")], [ask("How long may an entry live?")], [{ stderr: "crashed" }, { exit: 1 }], []], "*": [] },
        // fresh: one question, then the answered run and its retry fail; a person retries it with --fresh.
        fresh: { PLAN: [[ask("Which store?")], [{ exit: 1 }], [{ exit: 1 }], []], "*": [] },
      },
      { "retries.failed": "1" },
    );
    const waitQuestion = (chunk: string, question: string) =>
      e.waitUnits(dir, (us) => (us.find((u) => u.chunk === chunk)?.attention as { question?: string } | null)?.question === question);
    expectOk(await e.ve(dir, ["orch", "inject", "auto", "fresh", "--phase", "PLAN"]));
    await waitQuestion("auto", "Which store?");
    expectOk(await e.ve(dir, ["orch", "answer", "auto", "SQLite"]));
    await waitQuestion("auto", "How long may an entry live?");
    expectOk(await e.ve(dir, ["orch", "answer", "auto", "One hour"]));
    await waitQuestion("fresh", "Which store?");
    expectOk(await e.ve(dir, ["orch", "answer", "fresh", "Postgres"]));
    await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "fresh")?.attention?.kind === "error");
    expectOk(await e.ve(dir, ["orch", "retry", "fresh", "--fresh"]));
    await e.waitUnits(dir, (us) => us.every((u) => u.status === "DONE"));

    const prompt = (chunk: string, phase: string, attempt: number) =>
      prompts(script).find((p) => p.chunk === chunk && p.phase === phase && p.attempt === attempt)?.prompt ?? "";
    const inOrder = (text: string, parts: string[]) => {
      const at = parts.map((part) => text.indexOf(part));
      expect(at.every((p) => p >= 0)).toBe(true);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
    };
    const autoQa = ["> Which store?", "> SQLite", "> How long may an entry live?", "> One hour"];
    // The run after the second answer has both exchanges; so has its retry after it crashed.
    expect(prompt("auto", "PLAN", 3).startsWith("The operator's answer:\n\nOne hour\n")).toBe(true);
    inOrder(prompt("auto", "PLAN", 3), autoQa);
    expect(prompt("auto", "PLAN", 4)).toContain("crashed");
    inOrder(prompt("auto", "PLAN", 4), autoQa);
    // The answered run and its retry failed; the person's fresh retry keeps the answer too.
    inOrder(prompt("fresh", "PLAN", 3), ["> Which store?", "> Postgres"]);
    inOrder(prompt("fresh", "PLAN", 4), ["> Which store?", "> Postgres"]);
    // The next phase starts clean.
    for (const part of ["Which store?", "SQLite", "One hour"]) expect(prompt("auto", "IMPLEMENT", 1)).not.toContain(part);
    expect(prompt("fresh", "IMPLEMENT", 1)).not.toContain("Postgres");
    // Each run that asked carries the operator's answer in `ve orch runs --json`.
    const runs = json<{ runs: { phase: string; outcome: string | null; answer: string | null; answered_at: string | null; ended_at: string | null }[] }>(
      expectOk(await e.ve(dir, ["orch", "runs", "auto", "--json"])),
    ).runs;
    expect(runs.filter((r) => r.phase === "PLAN").map((r) => [r.outcome, r.answer])).toEqual([
      ["question", "SQLite"],
      ["question", "One hour"],
      ["failed", null],
      ["completed", null],
    ]);
    expect((runs[0]?.answered_at ?? "") > (runs[0]?.ended_at ?? "")).toBe(true);
  }, ENGINE_TEST_MS);

  test("answering what does not wait on a question is a 409 naming the unit and its status; nothing changes", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, { broken: { IMPLEMENT: [{ exit: 2 }] }, "*": { "*": [] } }, { "retries.failed": "0" });
    expectOk(await e.ve(dir, ["orch", "inject", "broken", "--phase", "IMPLEMENT"]));
    expectOk(await e.ve(dir, ["orch", "inject", "after", "--phase", "IMPLEMENT", "--blocked-by", "broken"]));
    expectOk(await e.ve(dir, ["orch", "work-unit", "create", "tracked"]));
    await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "broken")?.status === "NEEDS_ATTENTION");

    const blocked = await e.ve(dir, ["orch", "answer", "after", "yes", "--json"]);
    expect(blocked.code).toBe(1);
    expect(json<ErrorDoc>(blocked).error).toMatchObject({ code: "not_waiting", details: { chunk: "after", status: "BLOCKED" } });
    expect(json<ErrorDoc>(blocked).error.message).toContain("'after' is BLOCKED");
    const human = await e.ve(dir, ["orch", "answer", "tracked", "yes"]);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain("'tracked' is READY, not waiting on a person");

    const notQuestion = json<ErrorDoc>(await e.ve(dir, ["orch", "answer", "broken", "yes", "--json"])).error;
    expect(notQuestion.code).toBe("not_a_question");
    expect(notQuestion.message).toContain("'broken' is NEEDS_ATTENTION for a reason of kind 'error'");
    expect(notQuestion.message).toContain("`ve orch retry broken` runs it again");
    const retryNotWaiting = json<ErrorDoc>(await e.ve(dir, ["orch", "retry", "after", "--json"])).error;
    expect(retryNotWaiting.code).toBe("not_waiting");
    const units = await e.units(dir);
    expect(units.map((u) => [u.chunk, u.status])).toEqual([
      ["broken", "NEEDS_ATTENTION"],
      ["after", "BLOCKED"],
      ["tracked", "READY"],
    ]);
    expect(starts(script, "broken")).toHaveLength(1);
  }, ENGINE_TEST_MS);

  test("a person's wait survives restarts: NEEDS_ATTENTION and its record kept, the agent not run again, dependents BLOCKED", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, { stuck: { IMPLEMENT: [{ exit: 5 }] }, "*": { "*": [] } }, { "retries.failed": "0", backoff_base_s: "1" });
    expectOk(await e.ve(dir, ["orch", "inject", "stuck", "--phase", "IMPLEMENT"]));
    expectOk(await e.ve(dir, ["orch", "inject", "waiter", "--phase", "IMPLEMENT", "--blocked-by", "stuck"]));
    await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "stuck")?.status === "NEEDS_ATTENTION");
    // A usage limit that outlasted its waits (retries.limit) waits on a person too, even with its
    // last backoff time long past: the engine waits for a reset only while the unit is READY.
    expectOk(await e.ve(dir, ["orch", "stop"]));
    const db = new Database(join(dir, ".ve", "orchestrator.db"));
    try {
      db.query("UPDATE attention SET kind = 'limit' WHERE chunk = 'stuck'").run();
      db.query("UPDATE unit_engine SET retry_at = '2000-01-01T00:00:00.000Z', retry_kind = 'limit' WHERE chunk = 'stuck'").run();
    } finally {
      db.close();
    }
    expectOk(await e.ve(dir, ["orch", "start"]));
    const before = (await attention(dir)).attention;
    expect(before.map((a) => [a.chunk, a.kind])).toEqual([["stuck", "limit"]]);
    for (const [round, how] of [["w1", "stop"], ["w2", "kill"]] as const) {
      if (how === "stop") expectOk(await e.ve(dir, ["orch", "stop"]));
      else {
        // A daemon that dies without its stop: the next start's recovery must not touch the wait.
        const pid = json<{ pid: number }>(expectOk(await e.ve(dir, ["orch", "status", "--json"]))).pid;
        process.kill(pid, "SIGKILL");
        expect(await waitFor(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, 10_000)).toBe(true);
      }
      expectOk(await e.ve(dir, ["orch", "start"]));
      // A witness that runs to the end: by then the scheduler has looked at every unit.
      expectOk(await e.ve(dir, ["orch", "inject", round, "--phase", "COMPLETE"]));
      await e.waitUnits(dir, (us) => us.find((u) => u.chunk === round)?.status === "DONE");
      const units = await e.units(dir);
      expect(units.filter((u) => u.chunk === "stuck" || u.chunk === "waiter").map((u) => [u.chunk, u.status])).toEqual([
        ["stuck", "NEEDS_ATTENTION"],
        ["waiter", "BLOCKED"],
      ]);
      expect((await attention(dir)).attention.map(({ waiting_s: _w, ...rest }) => rest)).toEqual(before.map(({ waiting_s: _w, ...rest }) => rest));
      expect(starts(script, "stuck")).toHaveLength(1);
      expect(starts(script, "waiter")).toHaveLength(0);
    }
  }, ENGINE_TEST_MS);

  test("on_attention fires once per new record, not again on a restart, with the record as JSON on stdin", async () => {
    const { dir, script } = e.repo();
    const out = `${script}.hook.jsonl`;
    await e.start(dir, script, { first: { IMPLEMENT: [{ exit: 1 }] }, second: { IMPLEMENT: [{ exit: 1 }] } }, { "retries.failed": "0", on_attention: `cat >> '${out}'` });
    const hooked = () => (existsSync(out) ? readFileSync(out, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : []);
    expectOk(await e.ve(dir, ["orch", "inject", "first", "--phase", "IMPLEMENT"]));
    expect(await waitFor(() => hooked().length === 1, 30_000)).toBe(true);
    const [record] = hooked();
    const [run] = await runsOf(dir, "first");
    expect(record).toMatchObject({ chunk: "first", phase: "IMPLEMENT", project: dir, kind: "error", run_id: run?.id, question: null, options: [] });
    expect(String(record?.reason)).toContain("exited with status 1");

    expectOk(await e.ve(dir, ["orch", "restart"]));
    expectOk(await e.ve(dir, ["orch", "inject", "second", "--phase", "IMPLEMENT"]));
    expect(await waitFor(() => hooked().length >= 2, 30_000)).toBe(true);
    expectOk(await e.ve(dir, ["orch", "retry", "first"]));
    expect(await waitFor(() => hooked().length >= 3, 30_000)).toBe(true);
    const chunks = hooked().map((r) => r.chunk);
    expect(chunks).toEqual(["first", "second", "first"]);
    expect(hooked()[2]?.run_id).not.toBe(run?.id);
    const log = readFileSync(join(dir, ".ve", "orchestrator.log"), "utf8");
    expect(log).toContain("on_attention ran for 'first' (error)");
  }, ENGINE_TEST_MS);
});
