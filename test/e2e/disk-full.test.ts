// Fault injection: the disk under a running daemon fills up during a write stream (a small
// tmpfs of the test's own). Every write is answered with JSON, refused ones as 507
// storage_full (never 500, never an HTML page), reads keep being answered, SIGTERM still stops
// the daemon, a start on the full disk says what is wrong, and once space is freed every
// acknowledged write is there and the database passes `PRAGMA integrity_check`.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { useTmpfs } from "../helpers/tmpfs.ts";
import { isRunning, json, stateFiles, useProjects, waitFor } from "./harness.ts";

const { track, ve } = useProjects("ve-disk-full");
const mountTmpfs = useTmpfs();

/** Bounds of the write stream: far more than the disk holds, and a wall-time cap. */
const MAX_WRITES = 4000;
const STREAM_MS = 30_000;
const WORKTREE = `/w/${"x".repeat(3000)}`;

interface Answer {
  status: number;
  type: string;
  text: string;
  body: unknown;
}

async function call(socket: string, method: string, path: string, body?: unknown): Promise<Answer> {
  // One connection per request, as ve's own client does: a pooled one the daemon closes for
  // idling can be reset under the next request.
  const init: RequestInit & { unix: string } = { method, unix: socket, keepalive: false };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const response = await fetch(`http://localhost${path}`, init);
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, type: response.headers.get("content-type") ?? "", text, body: parsed };
}

/** What every answer of the daemon must be, full disk or not: JSON, and never a 500. */
function expectHonest(answer: Answer, what: string): void {
  const where = `${what} -> ${answer.status} ${answer.type} ${answer.text.slice(0, 200)}`;
  expect(answer.type, where).toStartWith("application/json");
  expect(answer.body, where).toBeDefined();
  expect(answer.status, where).not.toBe(500);
}

function codeOf(answer: Answer): string | undefined {
  return (answer.body as { error?: { code?: string } } | undefined)?.error?.code;
}

function gitIgnored(dir: string): boolean {
  const added = Bun.spawnSync(["git", "add", "-A", "--dry-run"], { cwd: dir, stdout: "pipe" }).stdout.toString();
  return !added.includes(".ve");
}

describe("the disk fills up under a running daemon", () => {
  test("refused writes are 507 JSON, reads go on, SIGTERM stops it, nothing acknowledged is lost", async () => {
    const fs = mountTmpfs(3 * 1024 * 1024);
    if (typeof fs === "string") {
      console.log(`skipped: ${fs}`);
      return;
    }
    const dir = track(join(fs.dir, "project"));
    mkdirSync(dir);
    Bun.spawnSync(["git", "init", "-q", dir]);
    const started = await ve(dir, ["orch", "start", "--json"]);
    expect(started.code, started.stderr).toBe(0);
    const pid = (json(started) as { daemon: { pid: number } }).daemon.pid;
    const { socket } = stateFiles(dir);

    const acknowledged: string[] = [];
    let refused = 0;
    let filler: string | undefined;
    const deadline = Date.now() + STREAM_MS;
    for (let i = 0; i < MAX_WRITES && refused < 40 && Date.now() < deadline; i++) {
      const answer = await call(socket, "POST", "/work-units", { chunk: `u${i}`, worktree: WORKTREE });
      expectHonest(answer, `POST u${i}`);
      if (answer.status === 201) {
        acknowledged.push(`u${i}`);
        continue;
      }
      expect(answer.status, answer.text).toBe(507);
      expect(codeOf(answer)).toBe("storage_full");
      expect((answer.body as { error: { message: string } }).error.message).toContain(join(dir, ".ve"));
      refused++;
      // Whatever room is left goes too, so the log is full as well.
      filler ??= fs.fill();
    }
    expect(acknowledged.length).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(0);

    // Reads keep being answered. A small write may still fit in WAL pages the file already
    // has; whatever it gets, the answer is honest.
    for (const [method, path, body] of [
      ["GET", "/status"],
      ["GET", "/work-units"],
      ["GET", `/work-units/${acknowledged[0]}`],
      ["GET", `/work-units/${acknowledged[0]}/history`],
      ["PATCH", `/work-units/${acknowledged[0]}`, { status: "RUNNING" }],
      ["DELETE", `/work-units/${acknowledged[1]}`],
      ["GET", "/no-such-route"],
    ] as [string, string, unknown?][]) {
      const answer = await call(socket, method, path, body);
      expectHonest(answer, `${method} ${path}`);
      if (method === "GET" && path !== "/no-such-route") expect(answer.status, `${method} ${path}`).toBe(200);
      if ((method === "PATCH" || method === "DELETE") && answer.status !== 200) {
        expect(codeOf(answer), `${method} ${path}`).toBe("storage_full");
      }
      if (method === "DELETE" && answer.status === 200) acknowledged.splice(1, 1);
    }
    const listed = await call(socket, "GET", "/work-units");
    expect((listed.body as { count: number }).count).toBe(acknowledged.length);

    // SIGTERM is honoured promptly on the full disk.
    process.kill(pid, "SIGTERM");
    expect(await waitFor(() => !isRunning(pid), 10_000)).toBe(true);

    // A start on the full disk says so, naming the place, and is not "a bug".
    const refusedStart = await ve(dir, ["orch", "start", "--json"]);
    expect(refusedStart.code).toBe(1);
    const error = (json(refusedStart) as { error: { code: string; message: string } }).error;
    expect(error.code, error.message).toBe("storage_full");
    expect(error.message).toContain(join(dir, ".ve"));
    expect(error.message).not.toMatch(/bug/i);
    expect(readFileSync(join(dir, ".ve", ".gitignore"), "utf8")).toBe("*\n");

    // Space freed: the daemon starts, and every acknowledged write is there.
    if (filler) rmSync(filler);
    fs.resize(32 * 1024 * 1024);
    const again = await ve(dir, ["orch", "start", "--json"]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const after = await call(socket, "GET", "/work-units");
    expect(after.status).toBe(200);
    const names = (after.body as { work_units: { chunk: string }[] }).work_units.map((u) => u.chunk);
    expect(names).toEqual(acknowledged);
    const write = await call(socket, "POST", "/work-units", { chunk: "after-the-fault" });
    expect(write.status, write.text).toBe(201);
    const stopped = await ve(dir, ["orch", "stop", "--json"]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect((json(stopped) as { killed: boolean }).killed).toBe(false);

    const db = new Database(join(dir, ".ve", "orchestrator.db"), { readonly: true });
    try {
      expect(db.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
      expect((db.query("SELECT count(*) AS n FROM work_units").get() as { n: number }).n).toBe(acknowledged.length + 1);
    } finally {
      db.close();
    }
    expect(gitIgnored(dir)).toBe(true);
  }, 90_000);

  test("a first start on a full disk: a typed error naming the place, no empty .gitignore; fine once there is room", async () => {
    const fs = mountTmpfs(512 * 1024);
    if (typeof fs === "string") {
      console.log(`skipped: ${fs}`);
      return;
    }
    const dir = track(join(fs.dir, "project"));
    mkdirSync(dir);
    Bun.spawnSync(["git", "init", "-q", dir]);
    const filler = fs.fill();
    const result = await ve(dir, ["orch", "start", "--json"]);
    expect(result.code).toBe(1);
    const error = (json(result) as { error: { code: string; message: string } }).error;
    expect(error.code, error.message).toBe("storage_full");
    expect(error.message).toContain(join(dir, ".ve"));
    expect(error.message).not.toMatch(/bug/i);
    rmSync(filler);
    const started = await ve(dir, ["orch", "start"]);
    expect(started.code, started.stderr).toBe(0);
    expect(readFileSync(join(dir, ".ve", ".gitignore"), "utf8")).toBe("*\n");
    expect(gitIgnored(dir)).toBe(true);
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
  }, 60_000);
});
