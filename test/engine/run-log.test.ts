import { describe, expect, test } from "bun:test";
import { appendFileSync, symlinkSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RunLog, readRunLog, runLogPath } from "../../src/engine/run-log.ts";
import { useTempDirs } from "../helpers/temp.ts";

const tempDir = useTempDirs("ve-runlog");

describe("run logs", () => {
  test("raw lines and events are kept in order, one JSON object a line", () => {
    const path = runLogPath(tempDir(), "a", "r1");
    const log = new RunLog(path);
    log.raw("stdout", '{"type":"x"}');
    log.event({ type: "text", text: "hi" });
    log.raw("stderr", "warn");
    log.close();
    const entries = readRunLog(path);
    expect(entries.map((e) => ("raw" in e ? `${e.stream}:${e.raw}` : "event" in e ? e.event.type : "?"))).toEqual([
      'stdout:{"type":"x"}',
      "text",
      "stderr:warn",
    ]);
  });

  test("past the size bound raw lines stop with one marker, the deciding events are still written", () => {
    const path = runLogPath(tempDir(), "a", "r1");
    const log = new RunLog(path, 2000);
    for (let i = 0; i < 100; i++) log.raw("stdout", `line ${i} ${"x".repeat(50)}`);
    log.event({ type: "result", outcome: "completed", reason: "ok" });
    log.close();
    const entries = readRunLog(path);
    expect(entries.filter((e) => "truncated" in e).length).toBe(1);
    expect(entries.at(-1)).toMatchObject({ event: { type: "result", outcome: "completed" } });
    expect(readFileSync(path).byteLength).toBeLessThan(2400);
  });

  test("a huge line is cut and its length recorded", () => {
    const path = runLogPath(tempDir(), "a", "r1");
    const log = new RunLog(path);
    log.raw("stdout", "y".repeat(100_000));
    log.close();
    const [entry] = readRunLog(path);
    expect(entry).toMatchObject({ cut: 100_000 });
    expect("raw" in (entry as object) && (entry as { raw: string }).raw.length).toBe(64 * 1024);
  });

  test("a symlink planted at the log's path is refused, its target untouched", () => {
    const dir = tempDir();
    const path = runLogPath(dir, "a", "r1");
    new RunLog(path).close();
    const target = join(dir, "victim");
    writeFileSync(target, "precious\n");
    const planted = runLogPath(dir, "a", "r2");
    symlinkSync(target, planted);
    expect(() => new RunLog(planted)).toThrow();
    expect(readFileSync(target, "utf8")).toBe("precious\n");
  });

  test("a torn last line (crash mid-write) is skipped when reading", () => {
    const path = runLogPath(tempDir(), "a", "r1");
    const log = new RunLog(path);
    log.note("started");
    log.close();
    appendFileSync(path, '{"t":"2026-');
    expect(readRunLog(path)).toHaveLength(1);
  });
});
