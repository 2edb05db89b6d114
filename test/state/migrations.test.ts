// Schema migrations: fresh databases, re-opens, the upgrade from the seed schema, refusals
// that never touch the file, racing openers, and the embedded list against sql/ on disk.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { VeError } from "../../src/errors.ts";
import { closeDatabase, openDatabase } from "../../src/state/database.ts";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "../../src/state/migrations.ts";
import { Store } from "../../src/state/store.ts";
import { ISO_MS_UTC, expectLine, expectVeError, release, useChildren, useStores } from "./support.ts";

const { newPath } = useStores("ve-migrations");
const spawn = useChildren();
const ALL_VERSIONS = MIGRATIONS.map((m) => m.version);

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function migrationRows(db: Database): { version: number; applied_at: string }[] {
  return db.query("SELECT version, applied_at FROM schema_migrations ORDER BY version").all() as {
    version: number;
    applied_at: string;
  }[];
}

/** sha256 of every file in the database's folder but the -shm index (any reader rewrites it). */
function fileHashes(path: string): Map<string, string> {
  const dir = dirname(path);
  return new Map(
    readdirSync(dir)
      .filter((name) => !name.endsWith("-shm"))
      .map((name) => [name, sha256(join(dir, name))]),
  );
}

/**
 * Opening must fail with `code` and leave every file that was there byte-identical (the
 * database and any -wal). A new, empty -wal or a -shm beside it holds no data and is allowed.
 */
function expectRefusedUntouched(path: string, code: "schema_too_new" | "database_corrupt", check = false): VeError {
  const before = fileHashes(path);
  const error = expectVeError(() => Store.open(path, { check }), code);
  const assertUntouched = () => {
    const after = fileHashes(path);
    for (const [name, hash] of before) expect(`${name} ${after.get(name) ?? "missing"}`).toBe(`${name} ${hash}`);
    for (const [name] of after) {
      if (!before.has(name)) expect(`${name} ${statSync(join(dirname(path), name)).size}`).toBe(`${basename(path)}-wal 0`);
    }
  };
  assertUntouched();
  // A second attempt is refused the same way: the first one did not "repair" anything.
  expectVeError(() => Store.open(path, { check }), code);
  assertUntouched();
  return error;
}

describe("applying migrations", () => {
  test("the embedded migrations are numbered 1..n without gaps", () => {
    expect(ALL_VERSIONS).toEqual(ALL_VERSIONS.map((_, i) => i + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(ALL_VERSIONS.at(-1) ?? -1);
    expect(ALL_VERSIONS.length).toBeGreaterThanOrEqual(2);
  });

  test("a fresh database gets every version, recorded in schema_migrations", () => {
    const store = Store.open(newPath());
    try {
      expect(store.appliedMigrations).toEqual(ALL_VERSIONS);
      const rows = migrationRows(store.db);
      expect(rows.map((r) => r.version)).toEqual(ALL_VERSIONS);
      for (const row of rows) expect(row.applied_at).toMatch(ISO_MS_UTC);
      // The schema is usable: the tables of every migration exist.
      const tables = (store.db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[])
        .map((t) => t.name);
      expect(tables).toEqual(expect.arrayContaining(["work_units", "status_log", "schema_migrations", "work_unit_blockers"]));
    } finally {
      store.close();
    }
  });

  test("re-opening applies nothing and keeps the data", () => {
    const path = newPath();
    const first = Store.open(path);
    first.create({ chunk: "a" });
    first.create({ chunk: "b", blocked_by: ["a"] });
    first.update("a", { phase: "PLAN" });
    const units = first.list();
    const history = first.history("a");
    const rows = migrationRows(first.db);
    first.close();

    for (let i = 0; i < 2; i++) {
      const again = Store.open(path);
      try {
        expect(again.appliedMigrations).toEqual([]);
        expect(migrationRows(again.db)).toEqual(rows);
        expect(again.list()).toEqual(units);
        expect(again.history("a")).toEqual(history);
      } finally {
        again.close();
      }
    }
  });

  test("a database created with 0001 only is upgraded, keeping units, log and blockers", () => {
    const path = newPath();
    const { db, applied } = openDatabase(path, { migrations: MIGRATIONS.slice(0, 1) });
    expect(applied).toEqual([1]);
    const insert = db.query(
      "INSERT INTO work_units (chunk, phase, status, blocked_by, worktree, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    const t0 = "2025-01-01T00:00:00.000Z";
    insert.run("a", "PLAN", "READY", null, "/wt/a", t0, t0);
    insert.run("b", "GOAL", "BLOCKED", '["a"]', null, t0, t0);
    insert.run("c", "GOAL", "BLOCKED", '["b","a"]', null, t0, t0);
    insert.run("d", "IMPLEMENT", "RUNNING", "[]", null, t0, t0);
    db.query("INSERT INTO status_log (chunk, old_status, new_status, timestamp) VALUES (?, ?, ?, ?)").run(
      "b",
      null,
      "BLOCKED",
      t0,
    );
    closeDatabase(db);

    const store = Store.open(path);
    try {
      expect(store.appliedMigrations).toEqual(ALL_VERSIONS.slice(1));
      expect(migrationRows(store.db).map((r) => r.version)).toEqual(ALL_VERSIONS);
      expect(store.list().map((u) => [u.chunk, u.phase, u.status, u.blocked_by, u.worktree])).toEqual([
        ["a", "PLAN", "READY", [], "/wt/a"],
        ["b", "GOAL", "BLOCKED", ["a"], null],
        ["c", "GOAL", "BLOCKED", ["b", "a"], null],
        ["d", "IMPLEMENT", "RUNNING", [], null],
      ]);
      expect(store.get("a")).toMatchObject({ created_at: t0, updated_at: t0 });
      expect(store.history("b")).toEqual([
        {
          id: 1,
          chunk: "b",
          old_status: null,
          new_status: "BLOCKED",
          old_phase: null,
          new_phase: null,
          reason: null,
          forced: false,
          actor: null,
          timestamp: t0,
        },
      ]);
      // The JSON column is gone: the blocker table is the only source now.
      const columns = (store.db.query("PRAGMA table_info(work_units)").all() as { name: string }[]).map((c) => c.name);
      expect(columns).not.toContain("blocked_by");

      // The migrated dependencies work: a DONE releases b, and c still waits on b.
      store.update("a", { status: "DONE" });
      expect(store.get("b")).toMatchObject({ status: "READY", blocked_by: [] });
      expect(store.get("c")).toMatchObject({ status: "BLOCKED", blocked_by: ["b"] });
      expectVeError(() => store.delete("b"), "has_dependents");
      expectVeError(() => store.update("b", { blocked_by: ["c"] }), "dependency_cycle");
    } finally {
      store.close();
    }
  });

  test("after the upgrade, a blocker that was already DONE in 0001 does not hold its dependent", () => {
    // DESIGN.md: a unit cannot be READY only while a blocker is *not* DONE; DONE blockers are
    // dropped. Seed data can name DONE units in blocked_by; they must not keep b from READY.
    const path = newPath();
    const { db } = openDatabase(path, { migrations: MIGRATIONS.slice(0, 1) });
    const insert = db.query(
      "INSERT INTO work_units (chunk, phase, status, blocked_by, worktree, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?)",
    );
    const t0 = "2025-01-01T00:00:00.000Z";
    insert.run("a", "COMPLETE", "DONE", null, t0, t0);
    insert.run("b", "GOAL", "BLOCKED", '["a"]', t0, t0);
    closeDatabase(db);

    const store = Store.open(path);
    try {
      expect(store.update("b", { status: "READY" }).status).toBe("READY");
    } finally {
      store.close();
    }
  });

  test("after the upgrade, a unit 0001 left READY or RUNNING behind an unfinished blocker is BLOCKED, and logged", () => {
    const path = newPath();
    const { db } = openDatabase(path, { migrations: MIGRATIONS.slice(0, 1) });
    const insert = db.query(
      "INSERT INTO work_units (chunk, phase, status, blocked_by, worktree, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?)",
    );
    const t0 = "2025-01-01T00:00:00.000Z";
    insert.run("a", "PLAN", "READY", null, t0, t0);
    insert.run("b", "GOAL", "READY", '["a"]', t0, t0);
    insert.run("c", "IMPLEMENT", "RUNNING", '["ghost"]', t0, t0);
    insert.run("d", "GOAL", "NEEDS_ATTENTION", '["a"]', t0, t0);
    closeDatabase(db);

    const store = Store.open(path);
    try {
      expect(store.list().map((u) => [u.chunk, u.status, u.blocked_by])).toEqual([
        ["a", "READY", []],
        ["b", "BLOCKED", ["a"]],
        ["c", "BLOCKED", ["ghost"]],
        ["d", "NEEDS_ATTENTION", ["a"]],
      ]);
      const logged = store.history("c").at(-1);
      expect([logged?.old_status, logged?.new_status, logged?.old_phase, logged?.new_phase]).toEqual([
        "RUNNING",
        "BLOCKED",
        "IMPLEMENT",
        "IMPLEMENT",
      ]);
      expect(logged?.reason).toContain("schema upgrade");
      expect(store.history("a")).toEqual([]);
      // Finishing the blocker releases b as for any unit.
      store.update("a", { status: "DONE" });
      expect(store.get("b").status).toBe("READY");
    } finally {
      store.close();
    }
  });

  test("0003: status_changed_at comes from the last logged status change, edges become permanent", () => {
    const path = newPath();
    const { db } = openDatabase(path, { migrations: MIGRATIONS.slice(0, 2) });
    const t0 = "2025-01-01T00:00:00.000Z";
    const t1 = "2025-01-02T00:00:00.000Z";
    const t2 = "2025-01-03T00:00:00.000Z";
    const unit = db.query("INSERT INTO work_units (chunk, phase, status, worktree, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?)");
    unit.run("logged", "PLAN", "RUNNING", t0, t2);
    unit.run("silent", "GOAL", "READY", t0, t2);
    unit.run("dep", "GOAL", "BLOCKED", t0, t0);
    db.query("INSERT INTO work_unit_blockers (chunk, blocker) VALUES ('dep', 'logged')").run();
    const log = db.query(
      "INSERT INTO status_log (chunk, old_status, new_status, old_phase, new_phase, reason, forced, timestamp) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
    );
    log.run("logged", null, "READY", null, "GOAL", "created", t0);
    log.run("logged", "READY", "RUNNING", "GOAL", "GOAL", "requested", t1);
    // A phase change alone is not a status change.
    log.run("logged", "RUNNING", "RUNNING", "GOAL", "PLAN", "requested", t2);
    closeDatabase(db);

    const store = Store.open(path);
    try {
      expect(store.appliedMigrations).toEqual(ALL_VERSIONS.slice(2));
      expect(store.get("logged").status_changed_at).toBe(t1);
      expect(store.get("silent").status_changed_at).toBe(t0);
      expect(store.history("logged").map((h) => h.actor)).toEqual([null, null, null]);
      // From now on a finished blocker stays in depends_on.
      store.update("logged", { status: "DONE" });
      expect(store.get("dep")).toMatchObject({ status: "READY", depends_on: ["logged"], blocked_by: [] });
      expect(store.get("logged").dependents).toEqual(["dep"]);
    } finally {
      store.close();
    }
  });

  test("0007: an answer of version 6 not yet run to its end (READY, or its run open) is kept with its unit's phase; no other reason is", () => {
    const path = newPath();
    const { db } = openDatabase(path, { migrations: MIGRATIONS.slice(0, 6) });
    const t0 = "2026-12-01T00:00:00.000Z";
    const unit = db.query("INSERT INTO work_units (chunk, phase, status, created_at, updated_at, status_changed_at, scheduled) VALUES (?, ?, ?, ?, ?, ?, 1)");
    const engine = db.query("INSERT INTO unit_engine (chunk, backend, next_reason) VALUES (?, 'command', ?)");
    const answer = (question: string, text: string, run: string) => JSON.stringify({ kind: "answer", question, answer: text, run_id: run });
    for (const [chunk, phase, status, reason] of [
      ["ready", "PLAN", "READY", answer("Which?", "this one", "r1")],
      ["running", "IMPLEMENT", "RUNNING", answer("Tabs?", "spaces,\nfour", "r2")],
      ["retried", "PLAN", "READY", JSON.stringify({ kind: "retry", error: "boom" })],
      ["first", "GOAL", "READY", null],
    ] as const) {
      unit.run(chunk, phase, status, t0, t0, t0);
      engine.run(chunk, reason);
    }
    unit.run("tracked", "GOAL", "READY", t0, t0, t0);
    closeDatabase(db);

    const store = Store.open(path);
    try {
      expect(store.appliedMigrations).toEqual(ALL_VERSIONS.slice(6));
      expect(store.db.query("SELECT chunk, phase, run_id, question, answer, answered_at, settled_at FROM operator_answers ORDER BY chunk").all()).toEqual([
        { chunk: "ready", phase: "PLAN", run_id: "r1", question: "Which?", answer: "this one", answered_at: t0, settled_at: null },
        { chunk: "running", phase: "IMPLEMENT", run_id: "r2", question: "Tabs?", answer: "spaces,\nfour", answered_at: t0, settled_at: null },
      ]);
    } finally {
      store.close();
    }
  });

  test("0007 on an empty version-6 database: the table of answers, empty", () => {
    const path = newPath();
    closeDatabase(openDatabase(path, { migrations: MIGRATIONS.slice(0, 6) }).db);
    const store = Store.open(path);
    try {
      expect(store.appliedMigrations).toEqual(ALL_VERSIONS.slice(6));
      expect(store.db.query("SELECT count(*) AS n FROM operator_answers").get()).toEqual({ n: 0 });
    } finally {
      store.close();
    }
  });

  test("0008 on a version-7 database: attention records keep their fields with no code", () => {
    const path = newPath();
    const { db } = openDatabase(path, { migrations: MIGRATIONS.slice(0, 7) });
    const t0 = "2026-12-01T00:00:00.000Z";
    db.query("INSERT INTO work_units (chunk, phase, status, created_at, updated_at, status_changed_at, scheduled) VALUES ('a', 'PLAN', 'NEEDS_ATTENTION', ?, ?, ?, 1)").run(t0, t0, t0);
    db.query("INSERT INTO attention (chunk, kind, reason, since) VALUES ('a', 'error', 'boom', ?)").run(t0);
    closeDatabase(db);
    const store = Store.open(path);
    try {
      expect(store.appliedMigrations).toEqual(ALL_VERSIONS.slice(7));
      expect(store.get("a").attention).toEqual({ kind: "error", reason: "boom", since: t0, run_id: null });
    } finally {
      store.close();
    }
  });

  test("0009 on a version-8 database: units stay, no base tip is known yet", () => {
    const path = newPath();
    const { db } = openDatabase(path, { migrations: MIGRATIONS.slice(0, 8) });
    const t0 = "2026-12-01T00:00:00.000Z";
    db.query("INSERT INTO work_units (chunk, phase, status, created_at, updated_at, status_changed_at, scheduled) VALUES ('a', 'PLAN', 'DONE', ?, ?, ?, 1)").run(t0, t0, t0);
    closeDatabase(db);
    const store = Store.open(path);
    try {
      expect(store.appliedMigrations).toEqual(ALL_VERSIONS.slice(8));
      expect(store.get("a").status).toBe("DONE");
      expect(store.db.query("SELECT count(*) AS n FROM base_tips").get()).toEqual({ n: 0 });
    } finally {
      store.close();
    }
  });

  test("0010 on a version-9 database: runs keep their figures; session totals, models and billing are unknown", () => {
    const path = newPath();
    const { db } = openDatabase(path, { migrations: MIGRATIONS.slice(0, 9) });
    const t0 = "2026-12-01T00:00:00.000Z";
    db.query("INSERT INTO work_units (chunk, phase, status, created_at, updated_at, status_changed_at, scheduled) VALUES ('a', 'IMPLEMENT', 'DONE', ?, ?, ?, 1)").run(t0, t0, t0);
    db.query("INSERT INTO runs (id, chunk, phase, attempt, purpose, backend, started_at, ended_at, outcome, cost_usd, token_hash) VALUES ('r1', 'a', 'IMPLEMENT', 1, 'phase', 'claude', ?, ?, 'completed', 0.5, 'h')").run(t0, t0);
    closeDatabase(db);
    const store = Store.open(path);
    try {
      expect(store.appliedMigrations).toEqual(ALL_VERSIONS.slice(9));
      expect(store.db.query("SELECT cost_usd, session_cost_usd, models, billing FROM runs").get()).toEqual({ cost_usd: 0.5, session_cost_usd: null, models: null, billing: null });
    } finally {
      store.close();
    }
  });

  test("0011 on an older database: engine rows gain no verify of their own and no fix runs; no gate has run", () => {
    const path = newPath();
    const before = MIGRATIONS.filter((m) => m.version < 11);
    const { db } = openDatabase(path, { migrations: before });
    const t0 = "2026-12-01T00:00:00.000Z";
    db.query("INSERT INTO work_units (chunk, phase, status, created_at, updated_at, status_changed_at, scheduled) VALUES ('a', 'COMPLETE', 'READY', ?, ?, ?, 1)").run(t0, t0, t0);
    db.query("INSERT INTO unit_engine (chunk, backend, stage) VALUES ('a', 'command', 'landing')").run();
    closeDatabase(db);
    const store = Store.open(path);
    try {
      expect(store.appliedMigrations).toEqual(ALL_VERSIONS.slice(before.length));
      expect(store.db.query("SELECT stage, verify, gate_runs FROM unit_engine WHERE chunk = 'a'").get()).toEqual({ stage: "landing", verify: null, gate_runs: 0 });
      expect(store.db.query("SELECT count(*) AS n FROM gates").get()).toEqual({ n: 0 });
      expect(store.db.query("SELECT count(*) AS n FROM gate_baselines").get()).toEqual({ n: 0 });
    } finally {
      store.close();
    }
  });

  test("database files are created with mode 0600", () => {
    const path = newPath();
    const store = Store.open(path);
    try {
      store.create({ chunk: "a" });
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        expect(`${basename(file)} ${(statSync(file).mode & 0o777).toString(8)}`).toBe(`${basename(file)} 600`);
      }
    } finally {
      store.close();
    }
  });
});

describe("refusals leave the file untouched", () => {
  test("a schema version newer than known is refused with schema_too_new (WAL database)", () => {
    const path = newPath();
    const store = Store.open(path);
    store.create({ chunk: "kept" });
    store.db.query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(
      LATEST_SCHEMA_VERSION + 7,
      new Date().toISOString(),
    );
    store.close();
    const error = expectRefusedUntouched(path, "schema_too_new");
    expect(error.details).toMatchObject({ schema_version: LATEST_SCHEMA_VERSION + 7, known_version: LATEST_SCHEMA_VERSION });
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.query("SELECT chunk FROM work_units").all()).toEqual([{ chunk: "kept" }]);
    } finally {
      raw.close();
    }
  });

  test("a schema version newer than known is refused before switching a rollback-journal file to WAL", () => {
    const path = newPath();
    const raw = new Database(path);
    raw.run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    raw.run(`INSERT INTO schema_migrations VALUES (${LATEST_SCHEMA_VERSION + 1}, '2099-01-01T00:00:00.000Z')`);
    raw.run("CREATE TABLE future (x)");
    raw.close();
    expectRefusedUntouched(path, "schema_too_new");
    const check = new Database(path, { readonly: true });
    try {
      expect(check.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "delete" });
    } finally {
      check.close();
    }
  });

  test("after a crash, a too-new database and its unmerged WAL are both left byte-identical", async () => {
    const path = newPath();
    // A (newer) writer records a future schema version and dies by SIGKILL: its commits are
    // only in the -wal file, which no checkpoint has merged yet.
    const writer = spawn(
      "write-and-hang.ts",
      path,
      "a,b",
      `INSERT INTO schema_migrations (version, applied_at) VALUES (${LATEST_SCHEMA_VERSION + 1}, '2099-01-01T00:00:00.000Z')`,
    );
    await expectLine(writer, "written");
    writer.proc.kill("SIGKILL");
    await writer.proc.exited;
    expect(existsSync(`${path}-wal`)).toBe(true);
    const wal = sha256(`${path}-wal`);

    expectRefusedUntouched(path, "schema_too_new");
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(sha256(`${path}-wal`)).toBe(wal);
    // The refusal did not lose the writer's commits either: they are still readable.
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.query("SELECT chunk FROM work_units ORDER BY rowid").all()).toEqual([{ chunk: "a" }, { chunk: "b" }]);
    } finally {
      raw.close();
    }
  });

  test("a file of random bytes is refused with database_corrupt and left byte-identical", () => {
    const path = newPath();
    const bytes = crypto.getRandomValues(new Uint8Array(16384));
    bytes.set(new TextEncoder().encode("not sqlite, no!"), 0); // never the SQLite magic by chance
    writeFileSync(path, bytes, { mode: 0o600 });
    const error = expectRefusedUntouched(path, "database_corrupt");
    expect(error.details).toMatchObject({ path });
    expect(error.message).toContain(path);
  });

  test("a short text file is refused with database_corrupt and left byte-identical", () => {
    const path = newPath();
    writeFileSync(path, "these are my notes, not a database\n");
    expectRefusedUntouched(path, "database_corrupt");
  });

  test("with check, a database whose data pages are damaged is refused and left byte-identical", () => {
    const path = newPath();
    const store = Store.open(path);
    const pageSize = (store.db.query("PRAGMA page_size").get() as { page_size: number }).page_size;
    store.db.transaction(() => {
      for (let i = 0; i < 400; i++) store.create({ chunk: `unit-${i}`, worktree: `/some/long/worktree/path/${"x".repeat(40)}/${i}` });
    })();
    store.close();
    const file = readFileSync(path);
    const pages = file.length / pageSize;
    expect(pages).toBeGreaterThan(6);
    // Overwrite every page but the first (the schema) with 0xFF: each b-tree page is then invalid.
    file.fill(0xff, pageSize);
    writeFileSync(path, file);
    expectRefusedUntouched(path, "database_corrupt", true);
  });
});

describe("unusable locations", () => {
  test("a database in a missing folder is database_unavailable, and nothing is created", () => {
    const dir = dirname(newPath());
    const path = join(dir, "missing", "orchestrator.db");
    const error = expectVeError(() => Store.open(path), "database_unavailable");
    expect(error.message).toContain(path);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("racing openers", () => {
  // One round hits the bad interleaving only now and then, so the race is run many times.
  const ROUNDS = 24;
  test(`three processes opening one new database at once: exactly one applies the migrations (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const path = newPath();
      const children = [spawn("open-store.ts", path), spawn("open-store.ts", path), spawn("open-store.ts", path)];
      for (const child of children) await expectLine(child, "ready");
      for (const child of children) release(child);
      const results: number[][] = [];
      for (const child of children) {
        const line = await child.lines.next();
        const code = await child.proc.exited;
        if (code !== 0 || line === undefined) {
          throw new Error(`round ${round}: an opener failed (exit ${code}): ${await child.stderr}`);
        }
        results.push(JSON.parse(line) as number[]);
      }
      expect(results.filter((r) => r.length > 0)).toEqual([ALL_VERSIONS]);
      expect(results.filter((r) => r.length === 0).length).toBe(2);

      const store = Store.open(path);
      try {
        expect(store.appliedMigrations).toEqual([]);
        expect(migrationRows(store.db).map((r) => r.version)).toEqual(ALL_VERSIONS);
      } finally {
        store.close();
      }
    }
  }, 60_000);
});

describe("embedded migrations match sql/ on disk", () => {
  const sqlDir = join(import.meta.dir, "..", "..", "sql");
  const onDisk = readdirSync(sqlDir)
    .filter((name) => name.endsWith(".sql"))
    .sort();

  test("same names in the same order", () => {
    expect(MIGRATIONS.map((m) => m.name)).toEqual(onDisk);
  });

  test("each version is its file's number", () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(onDisk.map((name) => Number.parseInt(name.slice(0, 4), 10)));
    for (const name of onDisk) expect(name).toMatch(/^\d{4}_[a-z0-9_]+\.sql$/);
  });

  test("same contents", () => {
    for (const migration of MIGRATIONS) {
      expect(migration.sql).toBe(readFileSync(join(sqlDir, migration.name), "utf8"));
    }
  });
});
