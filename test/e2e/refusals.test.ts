// Databases the daemon must refuse without touching: a newer schema than this binary knows,
// and a corrupt file. `start` fails with a message naming the database and what to do.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { ErrorBody, StartResult, WorkUnitList } from "../../src/models/index.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { daemonPids, jsonOf, sha256File, stateFiles, useProjects } from "./harness.ts";

const { project, ve } = useProjects("ve-refuse");
const tempDir = useTempDirs("ve-refuse-copy");

function stateDir(dir: string) {
  const files = stateFiles(dir);
  mkdirSync(files.state, { mode: 0o700 });
  return files;
}

/**
 * Starting fails, leaves no daemon and no changed byte. Returns the human error text (stderr)
 * and the one-sentence message of the --json error.
 */
async function refusedStart(dir: string, db: string): Promise<{ stderr: string; message: string }> {
  const before = sha256File(db);
  const entries = readdirSync(stateFiles(dir).state).filter((n) => n.startsWith("orchestrator.db"));

  const start = await ve(dir, ["orch", "start"]);
  expect(start.code).not.toBe(0);
  expect(start.code).not.toBe(3);
  expect(start.stdout).toBe("");
  expect(start.stderr).toContain(db);
  expect(sha256File(db)).toBe(before);

  // With --json the same refusal is one ErrorBody on stdout.
  const json = await ve(dir, ["orch", "start", "--json"]);
  expect(json.code).toBe(start.code);
  const body = jsonOf(ErrorBody, json);
  expect(body.error.message).toContain(db);
  expect(sha256File(db)).toBe(before);

  // No daemon was left behind, and nothing was written beside the database either (opening a
  // WAL-mode file may create an empty -wal and its index; a -wal with frames would be a write).
  expect(daemonPids(dir)).toEqual([]);
  expect((await ve(dir, ["orch", "status"])).code).toBe(3);
  const wal = `${db}-wal`;
  if (!entries.includes("orchestrator.db-wal") && existsSync(wal)) expect(statSync(wal).size).toBe(0);
  return { stderr: start.stderr, message: body.error.message };
}

/** Runs `read` on a throwaway copy of the database file. */
function inspectCopy<T>(db: string, read: (copy: Database) => T): T {
  const path = join(tempDir(), "copy.db");
  copyFileSync(db, path);
  const copy = new Database(path, { readonly: true });
  try {
    return read(copy);
  } finally {
    copy.close();
  }
}

/** Following the advice (move the file aside) gives a working, empty project. */
async function movedAsideWorks(dir: string, db: string): Promise<void> {
  renameSync(db, `${db}.refused`);
  const start = await ve(dir, ["orch", "start", "--json"]);
  expect(start.code).toBe(0);
  jsonOf(StartResult, start);
  expect(jsonOf(WorkUnitList, await ve(dir, ["orch", "ps", "--json"])).count).toBe(0);
}

describe("refused databases", () => {
  test("a newer schema: start refuses, says to upgrade ve, the file is unchanged", async () => {
    const dir = project();
    const { db } = stateDir(dir);
    const sqlite = new Database(db, { create: true });
    sqlite.run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    sqlite.run("INSERT INTO schema_migrations (version, applied_at) VALUES (999, '2030-01-01T00:00:00.000Z')");
    sqlite.run("CREATE TABLE from_the_future (x)");
    sqlite.close();

    const { stderr, message } = await refusedStart(dir, db);
    expect(stderr).toContain("database");
    expect(stderr).toContain("999");
    expect(stderr).toMatch(/upgrade ve/i);
    expect(stderr).toMatch(/untouched/);
    expect(message).toMatch(/upgrade ve/i);
    await movedAsideWorks(dir, db);
  });

  test("a file of random bytes: start refuses, says what to do, the file is unchanged", async () => {
    const dir = project();
    const { db } = stateDir(dir);
    writeFileSync(db, randomBytes(64 * 1024), { mode: 0o600 });

    const { stderr, message } = await refusedStart(dir, db);
    expect(stderr).toMatch(/damaged|corrupt|not a SQLite database/i);
    expect(stderr).toMatch(/restore a backup|move it aside/);
    expect(message).toMatch(/restore a backup|move it aside/);
    await movedAsideWorks(dir, db);
  });

  test("a real database with a damaged page: the integrity check refuses it, the file is unchanged", async () => {
    const dir = project();
    const { db } = stateFiles(dir);
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    for (const name of ["one", "two", "three", "four", "five"]) {
      expect((await ve(dir, ["orch", "work-unit", "create", name])).code).toBe(0);
    }
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
    expect(existsSync(`${db}-wal`)).toBe(false);

    // Swap the first two cell pointers of the work_units table (one leaf page): every byte
    // still parses, the file header, the schema and the migration table stay readable, but
    // the rows are out of order, which only the integrity check notices.
    // (Inspected through copies: opening the project's file here would add -wal/-shm files.)
    const { pageSize, root } = inspectCopy(db, (copy) => ({
      pageSize: (copy.query("PRAGMA page_size").get() as { page_size: number }).page_size,
      root: (copy.query("SELECT rootpage FROM sqlite_master WHERE name = 'work_units'").get() as { rootpage: number }).rootpage,
    }));
    // A leaf page's header is 8 bytes (page 1 would also hold the 100-byte file header).
    const pointers = (root - 1) * pageSize + 8;
    const fd = openSync(db, "r+");
    try {
      const pair = Buffer.alloc(4);
      readSync(fd, pair, 0, 4, pointers);
      writeSync(fd, Buffer.concat([pair.subarray(2), pair.subarray(0, 2)]), 0, 4, pointers);
    } finally {
      closeSync(fd);
    }
    const problems = inspectCopy(db, (copy) => copy.query("PRAGMA quick_check").all() as { quick_check: string }[]);
    expect(problems[0]?.quick_check).toContain("out of order");

    const { stderr, message } = await refusedStart(dir, db);
    expect(stderr).toMatch(/integrity check/);
    expect(stderr).toMatch(/restore a backup|move it aside/);
    // The one-sentence error a script or a person reads says what to do, not only the log tail.
    expect(message).toMatch(/restore a backup|move it aside/);
  });
});
