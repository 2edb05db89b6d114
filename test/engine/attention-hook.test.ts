// on_attention: run once per new attention record with the record as JSON on stdin, ended at
// its timeout with its whole process group, its failure logged and never thrown at the engine.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AttentionHook } from "../../src/engine/attention-hook.ts";
import { processGroupMembers, processInfo } from "../../src/platform/process.ts";
import { EngineStore } from "../../src/state/engine.ts";
import { useStores } from "../helpers/stores.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { waitFor } from "../e2e/harness.ts";

const stores = useStores("ve-hook");
const tempDir = useTempDirs("ve-hook-files");
const hooks: AttentionHook[] = [];
afterEach(async () => {
  for (const hook of hooks.splice(0)) await hook.stop();
});

function setup(config: Record<string, string | number>) {
  const store = stores.open();
  const state = new EngineStore(store);
  for (const [key, value] of Object.entries(config)) state.setConfig(key, value);
  const lines: { level: "info" | "warn"; message: string }[] = [];
  const dir = tempDir();
  const hook = new AttentionHook({
    store,
    config: () => state.config(),
    projectDir: dir,
    log: { info: (message) => lines.push({ level: "info", message }), warn: (message) => lines.push({ level: "warn", message }) },
  });
  hooks.push(hook);
  hook.start();
  state.inject(
    [
      { chunk: "a", phase: "IMPLEMENT", blocked_by: [], goal: null },
      { chunk: "b", phase: "PLAN", blocked_by: [], goal: null },
    ],
    { priority: 0, base_branch: "main", backend: "command" },
  );
  const fail = (chunk: string, why: string) =>
    state.advance(chunk, { status: "NEEDS_ATTENTION", reason: why, attention: { kind: "error", reason: why } }, `run-${why}`);
  return { store, state, lines, dir, fail };
}

function jsonLines(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("on_attention", () => {
  test("runs once per new record, the record with chunk, phase and project as JSON on stdin", async () => {
    const out = join(tempDir(), "hook.jsonl");
    const { state, store, lines, dir, fail } = setup({ on_attention: `cat >> '${out}'; echo "$VE_CHUNK $VE_ATTENTION_KIND" >> '${out}.env'` });
    fail("a", "first");
    // The hook writes the record, then its variables: both are there once the second is.
    expect(await waitFor(() => existsSync(`${out}.env`) && readFileSync(`${out}.env`, "utf8").endsWith("\n"))).toBe(true);
    const [first] = jsonLines(out);
    const record = store.get("a").attention;
    expect(first).toEqual({
      chunk: "a",
      phase: "IMPLEMENT",
      project: dir,
      kind: "error",
      reason: "first",
      question: null,
      options: [],
      since: record?.since,
      run_id: "run-first",
    });
    expect(readFileSync(`${out}.env`, "utf8")).toBe("a error\n");
    // Changes to a unit that keeps waiting (its blockers, a re-read of the queue) are no new record.
    store.update("a", { blocked_by: ["b"] });
    store.update("a", { blocked_by: [] });
    state.store.list();
    // A second unit's record, then the first unit again after a retry: each a new record.
    fail("b", "second");
    expect(await waitFor(() => jsonLines(out).length === 2)).toBe(true);
    state.retry("a", false);
    fail("a", "third");
    expect(await waitFor(() => jsonLines(out).length === 3)).toBe(true);
    expect(jsonLines(out).map((r) => [r.chunk, r.reason])).toEqual([
      ["a", "first"],
      ["b", "second"],
      ["a", "third"],
    ]);
    expect(await waitFor(() => lines.filter((l) => l.message.startsWith("on_attention ran")).length === 3)).toBe(true);
    expect(lines.filter((l) => l.level === "warn")).toEqual([]);
  });

  test("a hook started by an earlier daemon's record is not run again by a new listener", async () => {
    const out = join(tempDir(), "hook.jsonl");
    const { store, fail } = setup({ on_attention: `cat >> '${out}'` });
    fail("a", "before");
    expect(await waitFor(() => jsonLines(out).length === 1)).toBe(true);
    // What a restarted daemon does: a new hook on the same store, and the unit still waits.
    const state = new EngineStore(store);
    const again = new AttentionHook({ store, config: () => state.config(), projectDir: tempDir(), log: { info() {}, warn() {} } });
    hooks.push(again);
    again.start();
    fail("b", "after");
    expect(await waitFor(() => jsonLines(out).length >= 3)).toBe(true);
    // The old record of 'a' is not announced again; 'b' is announced by both listeners alive here.
    expect(jsonLines(out).map((r) => r.chunk)).toEqual(["a", "b", "b"]);
  });

  test("a hanging command is ended with its process group at on_attention_timeout_s, and that is logged", async () => {
    const pidFile = join(tempDir(), "pids");
    // The shell and a child of its own (the sleep), which must go with the group.
    const { lines, fail } = setup({ on_attention: `sleep 600 & echo "$$ $!" > '${pidFile}'; wait`, on_attention_timeout_s: 1 });
    fail("a", "stuck");
    expect(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").includes(" "), 10_000)).toBe(true);
    const [shell, child] = readFileSync(pidFile, "utf8").trim().split(" ").map(Number) as [number, number];
    expect(processInfo(child)).toBeDefined();
    expect(await waitFor(() => lines.some((l) => l.level === "warn" && l.message.includes("on_attention_timeout_s (1 s)")), 15_000)).toBe(true);
    expect(processInfo(shell)).toBeUndefined();
    expect(processInfo(child)).toBeUndefined();
    expect(processGroupMembers(shell)).toEqual([]);
    expect(lines.find((l) => l.level === "warn")?.message).toContain("'a'");
  });

  test("a failing command is logged with its exit status and last lines; the unit is untouched", async () => {
    const { lines, store, fail } = setup({ on_attention: "echo 'webhook refused' >&2; exit 7" });
    const unit = fail("a", "boom");
    expect(await waitFor(() => lines.some((l) => l.level === "warn"))).toBe(true);
    const warning = lines.find((l) => l.level === "warn")?.message ?? "";
    expect(warning).toContain("on_attention for 'a' exited with status 7");
    expect(warning).toContain("stderr: webhook refused");
    expect(store.get("a")).toEqual(unit);
  });

  test("a command that cannot be found is a logged failure, not an exception", async () => {
    const { lines, fail } = setup({ on_attention: "/nonexistent/notify" });
    expect(() => fail("a", "x")).not.toThrow();
    expect(await waitFor(() => lines.some((l) => l.level === "warn"))).toBe(true);
    expect(lines.find((l) => l.level === "warn")?.message).toContain("exited with status 127");
  });
});
