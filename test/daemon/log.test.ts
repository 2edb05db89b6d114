// The daemon log (DESIGN.md "Files of one project": timestamped lines, rotated at a bounded
// size; README: rotated at 5 MiB into orchestrator.log.1) and its reading by `ve orch logs`
// (last lines across the rotation, `-f` following appended lines through a rotation).
import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { followLog, lastLines } from "../../src/control/log-files.ts";
import { type DaemonLog, LOG_MAX_BYTES, formatLogLine, openDaemonLog } from "../../src/daemon/log.ts";
import { useTempDirs } from "../helpers/temp.ts";

const STDIO_FIXTURE = join(import.meta.dir, "fixtures", "log-stdio.ts");
const tempDir = useTempDirs("ve-log");
const logPath = () => join(tempDir(), "orchestrator.log");

/** `<ISO-8601 UTC with ms> <LEVEL> <message>`: one record's first line. */
const RECORD = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) ([A-Z]+) +(.*)$/;

const opened: DaemonLog[] = [];
const aborts: AbortController[] = [];
const children: Subprocess[] = [];
afterEach(async () => {
  for (const controller of aborts.splice(0)) controller.abort();
  for (const log of opened.splice(0)) {
    try {
      log.close();
    } catch {
      // closed by the test
    }
  }
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
    await child.exited;
  }
});

function openLog(path: string, maxBytes?: number): DaemonLog {
  const log = openDaemonLog(path, { echo: false, ...(maxBytes ? { maxBytes } : {}) });
  opened.push(log);
  return log;
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");
const fileLines = (path: string) => read(path).split("\n").filter((l) => l !== "");
const messages = (path: string) => fileLines(path).map((l) => RECORD.exec(l)?.[3] ?? `<not a record: ${l}>`);

async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

describe("formatLogLine: one timestamped line per event", () => {
  const date = new Date("2026-03-04T05:06:07.089Z");

  test("<ISO timestamp> <LEVEL> <message>, newline-terminated", () => {
    const line = formatLogLine({ date, type: "info", args: ["listening on", "/x.sock"] });
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    const match = RECORD.exec(line.slice(0, -1));
    expect(match?.[1]).toBe("2026-03-04T05:06:07.089Z");
    expect(match?.[2]).toBe("INFO");
    expect(match?.[3]).toBe("listening on /x.sock");
  });

  test("several arguments are joined with spaces; objects are shown, not [object Object]", () => {
    const text = formatLogLine({ date, type: "info", args: ["port", 8080, { answer: 42 }] });
    const [head, ...rest] = text.trimEnd().split("\n");
    expect(RECORD.exec(head ?? "")?.[3]).toStartWith("port 8080 ");
    expect(text).not.toContain("[object Object]");
    expect(text).toMatch(/answer\W+42/);
    // An object shown over several lines stays inside its record.
    for (const line of rest) expect(line).toMatch(/^\s/);
  });

  test("the level is the upper-cased type", () => {
    const level = (type: "warn" | "error" | "debug") => RECORD.exec(formatLogLine({ date, type, args: ["m"] }).trimEnd())?.[2];
    expect(level("warn")).toBe("WARN");
    expect(level("error")).toBe("ERROR");
    expect(level("debug")).toBe("DEBUG");
  });

  test("a multi-line message stays one record: continuation lines are indented", () => {
    const text = formatLogLine({ date, type: "error", args: ["first\nsecond\nthird"] });
    const [head, ...rest] = text.slice(0, -1).split("\n");
    expect(RECORD.exec(head ?? "")?.[3]).toBe("first");
    expect(rest.length).toBe(2);
    for (const line of rest) {
      expect(line).toMatch(/^\s+\S/);
      expect(RECORD.test(line)).toBe(false);
    }
    expect(rest.map((l) => l.trim())).toEqual(["second", "third"]);
  });

  test("an Error's stack is kept and indented under its record", () => {
    const text = formatLogLine({ date, type: "error", args: [new Error("kaput")] });
    const [head, ...rest] = text.slice(0, -1).split("\n");
    expect(head).toContain("kaput");
    expect(rest.length).toBeGreaterThan(0);
    for (const line of rest) expect(line).toMatch(/^\s+/);
  });
});

describe("openDaemonLog: writing and rotating", () => {
  test("each logger call is one line in the file, in order, with its level", () => {
    const path = logPath();
    const log = openLog(path);
    log.logger.info("one");
    log.logger.warn("two");
    log.logger.error("three");
    log.logger.info("one"); // repeated messages are not throttled away
    log.logger.info("one");
    const lines = fileLines(path);
    expect(lines.map((l) => RECORD.exec(l)?.[2])).toEqual(["INFO", "WARN", "ERROR", "INFO", "INFO"]);
    expect(messages(path)).toEqual(["one", "two", "three", "one", "one"]);
    for (const line of lines) {
      const stamp = RECORD.exec(line)?.[1] ?? "";
      expect(new Date(stamp).toISOString()).toBe(stamp);
    }
  });

  test("the log file is 0600 (even under umask 000)", () => {
    const path = logPath();
    const saved = process.umask(0);
    try {
      openLog(path).logger.info("x");
    } finally {
      process.umask(saved);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("opening appends to an existing log, never truncates it", () => {
    const path = logPath();
    writeFileSync(path, "2020-01-01T00:00:00.000Z INFO  earlier run\n");
    openLog(path).logger.info("this run");
    expect(messages(path)).toEqual(["earlier run", "this run"]);
  });

  test("the default limit is 5 MiB", () => {
    expect(LOG_MAX_BYTES).toBe(5 * 1024 * 1024);
  });

  test("past maxBytes the log rotates into <log>.1; both files 0600 and within the limit", () => {
    const path = logPath();
    const maxBytes = 400;
    const log = openLog(path, maxBytes);
    for (let i = 0; i < 12; i++) log.logger.info(`line ${String(i).padStart(3, "0")} ${"x".repeat(10)}`);
    expect(existsSync(`${path}.1`)).toBe(true);
    for (const file of [path, `${path}.1`]) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(file).size).toBeLessThanOrEqual(maxBytes);
      expect(statSync(file).size).toBeGreaterThan(0);
    }
    // The rotated file ends where the current one begins.
    const all = [...messages(`${path}.1`), ...messages(path)];
    expect(all.at(-1)).toStartWith("line 011");
  });

  test("a rotation counts the bytes already in an existing log", () => {
    const path = logPath();
    const old = `2020-01-01T00:00:00.000Z INFO  ${"o".repeat(300)}\n`;
    writeFileSync(path, old);
    openLog(path, 400).logger.info(`new ${"n".repeat(100)}`);
    expect(read(`${path}.1`)).toBe(old);
    expect(messages(path)).toEqual([`new ${"n".repeat(100)}`]);
  });

  test("only one rotated file is kept, replaced on each rotation; no line is lost or split", () => {
    const path = logPath();
    const maxBytes = 300;
    const log = openLog(path, maxBytes);
    const seen = new Set<string>();
    const rotatedHeads = new Set<string>();
    const total = 60;
    for (let i = 0; i < total; i++) {
      const message = i % 7 === 3 ? `msg ${i}\n  detail of ${i}` : `msg ${i}`;
      log.logger.info(message);
      // After every write, each file holds whole records only, and every line ever written is
      // in one of the two files.
      for (const file of [`${path}.1`, path]) {
        const text = read(file);
        if (text === "") continue;
        expect(text.endsWith("\n")).toBe(true);
        expect(RECORD.test(text.split("\n")[0] ?? "")).toBe(true);
        for (const m of messages(file)) seen.add(m);
      }
      if (existsSync(`${path}.1`)) rotatedHeads.add(messages(`${path}.1`)[0] ?? "");
    }
    for (let i = 0; i < total; i++) expect(seen.has(`msg ${i}`)).toBe(true);
    // Several rotations happened, each replacing <log>.1; no <log>.2 ever appears.
    expect(rotatedHeads.size).toBeGreaterThan(2);
    expect(existsSync(`${path}.2`)).toBe(false);
    // The two files together are the newest consecutive records, ending with the last.
    const numbers = [...messages(`${path}.1`), ...messages(path)]
      .filter((m) => m.startsWith("msg "))
      .map((m) => Number(/^msg (\d+)/.exec(m)?.[1]));
    expect(numbers.at(-1)).toBe(total - 1);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBe((numbers[i - 1] as number) + 1);
    // The first rotation's content is gone: .1 was replaced.
    expect(numbers[0]).toBeGreaterThan(0);
    // A multi-line record is never split across the two files.
    const firstOfCurrent = read(path).split("\n")[0] ?? "";
    expect(RECORD.test(firstOfCurrent)).toBe(true);
  });

  test("a single record larger than maxBytes is written whole into a fresh file", () => {
    const path = logPath();
    const log = openLog(path, 200);
    log.logger.info("small");
    const big = "B".repeat(1000);
    log.logger.info(big);
    log.logger.info("after");
    expect(messages(`${path}.1`)).toEqual([big]);
    expect(messages(path)).toEqual(["after"]);
  });
});

describe("openDaemonLog: a log that cannot rotate", () => {
  test("keeps every line in the current file instead of losing them", () => {
    const path = logPath();
    mkdirSync(`${path}.1`); // rename(log, log.1) now fails
    const log = openLog(path, 200);
    for (let i = 0; i < 10; i++) log.logger.info(`kept ${i}`);
    expect(messages(path)).toEqual(Array.from({ length: 10 }, (_, i) => `kept ${i}`));
  });
});

describe("openDaemonLog: stray output on stdout/stderr (the log file) follows the rotation", () => {
  const STRAYS = ["stray-console-error", "stray-console-log", "stray-stdout-write", "stray-stderr-write"];

  /** Runs the fixture with stdout and stderr on the log file, as `ve orch start` does. */
  async function runFixture(...flags: string[]): Promise<{ path: string; code: number }> {
    const path = logPath();
    const fd = openSync(path, "a", 0o600);
    let child: Subprocess;
    try {
      child = Bun.spawn([process.execPath, STDIO_FIXTURE, path, "600", ...flags], { stdio: ["ignore", fd, fd] });
      children.push(child);
    } finally {
      closeSync(fd);
    }
    const code = await child.exited;
    return { path, code };
  }

  test("console.error, console.log, process.stdout.write and process.stderr.write after a rotation land in the new log", async () => {
    const { path, code } = await runFixture();
    expect(code).toBe(0);
    const current = read(path);
    const rotated = read(`${path}.1`);
    expect(rotated).toContain("filler 0");
    for (const stray of [...STRAYS, "logged-after-rotation"]) {
      expect(current).toContain(stray);
      expect(rotated).not.toContain(stray);
    }
  });

  test("the same when process.stdout/process.stderr were already written to before the rotation", async () => {
    const { path, code } = await runFixture("used-before");
    expect(code).toBe(0);
    const current = read(path);
    const rotated = read(`${path}.1`);
    expect(rotated).toContain("stray-stdout-before-rotation");
    expect(rotated).toContain("stray-stderr-before-rotation");
    for (const stray of STRAYS) {
      expect({ stray, inNewLog: current.includes(stray) }).toEqual({ stray, inNewLog: true });
      expect({ stray, inRotatedLog: rotated.includes(stray) }).toEqual({ stray, inRotatedLog: false });
    }
  });

  test("an uncaught crash after a rotation is in the new log", async () => {
    const { path, code } = await runFixture("crash");
    expect(code).not.toBe(0);
    expect(read(path)).toContain("uncaught-crash-after-rotation");
    expect(read(`${path}.1`)).not.toContain("uncaught-crash-after-rotation");
  });
});

describe("lastLines: what `ve orch logs -n N` shows", () => {
  const numbered = (from: number, to: number) => {
    const out: string[] = [];
    for (let i = from; i < to; i++) out.push(`L${i}`);
    return out;
  };
  const writeLines = (file: string, lines: string[]) => writeFileSync(file, lines.map((l) => `${l}\n`).join(""));

  test("the last n lines of the current file when it has enough", () => {
    const path = logPath();
    writeLines(`${path}.1`, numbered(0, 10));
    writeLines(path, numbered(10, 20));
    expect(lastLines(path, 3)).toEqual(["L17", "L18", "L19"]);
    expect(lastLines(path, 10)).toEqual(numbered(10, 20));
  });

  test("reaches into <log>.1 when the current file is short, oldest first", () => {
    const path = logPath();
    writeLines(`${path}.1`, numbered(0, 10));
    writeLines(path, numbered(10, 13));
    expect(lastLines(path, 5)).toEqual(["L8", "L9", "L10", "L11", "L12"]);
  });

  test("asks for more than exist: every line of both files", () => {
    const path = logPath();
    writeLines(`${path}.1`, numbered(0, 4));
    writeLines(path, numbered(4, 6));
    expect(lastLines(path, 1000)).toEqual(numbered(0, 6));
  });

  test("zero lines, no files, or only a rotated file", () => {
    const path = logPath();
    expect(lastLines(path, 5)).toEqual([]);
    writeLines(path, numbered(0, 3));
    expect(lastLines(path, 0)).toEqual([]);
    const other = logPath();
    writeLines(`${other}.1`, numbered(0, 3));
    expect(lastLines(other, 2)).toEqual(["L1", "L2"]);
  });

  test("an unterminated last line is still shown", () => {
    const path = logPath();
    writeFileSync(path, "a\nb\nc");
    expect(lastLines(path, 2)).toEqual(["b", "c"]);
  });

  test("the tail of a large log is whole lines", () => {
    const path = logPath();
    const lines = numbered(0, 20_000).map((l) => `${l} ${"z".repeat(40)}`);
    writeLines(path, lines);
    expect(lastLines(path, 50)).toEqual(lines.slice(-50));
  });

  test("long lines: the last n lines of the current file, whole, never a fragment or older lines", () => {
    const path = logPath();
    writeLines(`${path}.1`, numbered(0, 5).map((l) => `rotated ${l}`));
    // 30 lines of 4 KiB: more than lastLines reads at first for 25 lines.
    const lines = numbered(0, 30).map((l) => `${l} ${"w".repeat(4096)}`);
    writeLines(path, lines);
    const tail = lastLines(path, 25);
    expect(tail.map((l) => l.slice(0, 12))).toEqual(lines.slice(-25).map((l) => l.slice(0, 12)));
    expect(tail).toEqual(lines.slice(-25));
  });

  test("across a real rotation by openDaemonLog", () => {
    const path = logPath();
    const log = openLog(path, 500);
    for (let i = 0; i < 30; i++) log.logger.info(`event ${i}`);
    const tail = lastLines(path, 12).map((l) => RECORD.exec(l)?.[3]);
    expect(fileLines(path).length).toBeLessThan(12);
    expect(tail).toEqual(numbered(18, 30).map((l) => `event ${l.slice(1)}`));
  });
});

describe("followLog: what `ve orch logs -f` prints", () => {
  function follow(path: string) {
    const got: string[] = [];
    const controller = new AbortController();
    aborts.push(controller);
    const done = followLog(path, (line) => got.push(line), controller.signal);
    return { got, controller, done };
  }

  test("delivers lines appended after it starts, in order, and not the earlier ones", async () => {
    const path = logPath();
    writeFileSync(path, "old 1\nold 2\n");
    const f = follow(path);
    appendFileSync(path, "new 1\n");
    appendFileSync(path, "new 2\nnew 3\n");
    await waitFor(() => f.got.length >= 3, "three lines");
    appendFileSync(path, "new 4\n");
    await waitFor(() => f.got.length >= 4, "the fourth line");
    expect(f.got).toEqual(["new 1", "new 2", "new 3", "new 4"]);
    f.controller.abort();
    await f.done;
  });

  test("a line written in pieces is delivered once, whole", async () => {
    const path = logPath();
    writeFileSync(path, "");
    const f = follow(path);
    appendFileSync(path, "hal");
    await Bun.sleep(450); // a negative check: two poll rounds see only the partial line
    expect(f.got).toEqual([]);
    appendFileSync(path, "f a line\nnext\n");
    await waitFor(() => f.got.length >= 2, "two lines");
    expect(f.got).toEqual(["half a line", "next"]);
  });

  test("a log that does not exist yet is followed from its creation", async () => {
    const path = logPath();
    const f = follow(path);
    writeFileSync(path, "first\n");
    await waitFor(() => f.got.length >= 1, "the first line");
    expect(f.got).toEqual(["first"]);
  });

  test("survives a rotation: lines of the new file (a new inode) are delivered", async () => {
    const path = logPath();
    writeFileSync(path, "before\n");
    const f = follow(path);
    appendFileSync(path, "old file\n");
    await waitFor(() => f.got.length >= 1, "the line in the old file");
    renameSync(path, `${path}.1`);
    writeFileSync(path, "new file 1\n");
    appendFileSync(path, "new file 2\n");
    await waitFor(() => f.got.length >= 3, "the lines of the new file");
    expect(f.got).toEqual(["old file", "new file 1", "new file 2"]);
  });

  test("survives a rotation even when the new file is already longer than the old offset", async () => {
    const path = logPath();
    writeFileSync(path, "a\n");
    const f = follow(path);
    renameSync(path, `${path}.1`);
    writeFileSync(path, "a much longer first line of the new file\nsecond\n");
    await waitFor(() => f.got.length >= 2, "the new file's lines");
    expect(f.got).toEqual(["a much longer first line of the new file", "second"]);
  });

  test("a log truncated in place (copy-truncate rotation) is read again from its start", async () => {
    const path = logPath();
    writeFileSync(path, "x".repeat(200) + "\n");
    const f = follow(path);
    appendFileSync(path, "before truncation\n");
    await waitFor(() => f.got.length >= 1, "the line before the truncation");
    writeFileSync(path, "");
    appendFileSync(path, "after\n");
    await waitFor(() => f.got.length >= 2, "the line after the truncation");
    expect(f.got).toEqual(["before truncation", "after"]);
  });

  test("no line is lost when the daemon logs and rotates between two polls", async () => {
    const path = logPath();
    const log = openLog(path, 2000);
    // Most of the way to a rotation before following starts.
    for (let i = 0; i < 30; i++) log.logger.info(`earlier ${i}`);
    const f = follow(path);
    // A burst faster than one poll: lines into the current file, the rotation, one line into
    // the fresh file.
    const sent: string[] = [];
    for (let i = 0; !existsSync(`${path}.1`); i++) {
      if (i > 1000) throw new Error("the log never rotated");
      sent.push(`burst ${i}`);
      log.logger.info(`burst ${i}`);
    }
    sent.push("after the rotation");
    log.logger.info("after the rotation");
    expect(sent.length).toBeGreaterThan(2);
    await waitFor(() => f.got.some((l) => l.endsWith(" after the rotation")), "the line after the rotation");
    expect(f.got.map((l) => RECORD.exec(l)?.[3])).toEqual(sent);
  });

  test("stops when its signal aborts: the promise resolves promptly and nothing more is delivered", async () => {
    const path = logPath();
    writeFileSync(path, "");
    const f = follow(path);
    appendFileSync(path, "seen\n");
    await waitFor(() => f.got.length >= 1, "the first line");
    f.controller.abort();
    // Promptly: it ends before even a timer due at once has fired, so it never waits out a poll
    // (a bound in milliseconds would fail on a loaded machine).
    const first = await Promise.race([f.done.then(() => "ended"), new Promise<string>((r) => setTimeout(() => r("a timer fired first"), 0))]);
    expect(first).toBe("ended");
    appendFileSync(path, "after abort\n");
    await Bun.sleep(300); // a negative check: more than one poll interval, and nothing arrives
    expect(f.got).toEqual(["seen"]);
  });

  test("an already aborted signal returns at once", async () => {
    const path = logPath();
    writeFileSync(path, "x\n");
    const controller = new AbortController();
    controller.abort();
    const got: string[] = [];
    await followLog(path, (l) => got.push(l), controller.signal);
    expect(got).toEqual([]);
  });
});

describe("rotation never writes through a link (issue 9 item 2)", () => {
  test("an orchestrator.log.1 that is a symlink is not written: its target keeps its content", async () => {
    const { symlinkSync: link, mkdtempSync, realpathSync, rmSync: remove } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "ve-log-link-")));
    try {
      const victim = join(dir, "victim");
      writeFileSync(victim, "precious\n");
      const path = join(dir, "orchestrator.log");
      link(victim, `${path}.1`);
      const log = openDaemonLog(path, { echo: false, maxBytes: 200 });
      for (let i = 0; i < 20; i++) log.logger.info(`line ${i} ${"x".repeat(40)}`);
      log.close();
      expect(readFileSync(victim, "utf8")).toBe("precious\n");
      // Nothing was lost: the log kept growing instead of rotating.
      expect(readFileSync(path, "utf8")).toContain("line 19");
      expect(readFileSync(path, "utf8")).toContain("line 0 ");
    } finally {
      remove(dir, { recursive: true, force: true });
    }
  });
});
