// A database written by the Python `ve orch` (the reference writes the same
// `.ve/orchestrator.db`): opening it converts what it holds, so that every read answers (it used
// to be 500 on every ps, show, list and history). Timestamps are normalised, values in other
// shapes mapped, names ve cannot accept renamed (reported, and recorded in the unit's history
// with the original name), and nothing is dropped.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { Value } from "@sinclair/typebox/value";
import { createApp } from "../../src/api/app.ts";
import { isValidChunkName } from "../../src/domain.ts";
import { DaemonStatus, History, WorkUnit, WorkUnitList } from "../../src/models/index.ts";
import { normalizeTimestamp } from "../../src/state/reference-data.ts";
import { Store } from "../../src/state/store.ts";
import { REFERENCE_LOG, REFERENCE_UNITS, writeReferenceDatabase } from "../helpers/reference-db.ts";
import { ISO_MS_UTC, useStores } from "./support.ts";

const { newPath } = useStores("ve-reference-db");

function openReference(version?: number | null): Store {
  const path = newPath();
  writeReferenceDatabase(path, { version });
  return Store.open(path, { check: true, exclusive: true });
}

const RENAMES: [string, string][] = [
  ["my chunk", "my-chunk"],
  ["a/b", "a-b-2"],
  ["x..y.lock", "x.y-lock"],
];

function fits(schema: Parameters<typeof Value.Check>[0], value: unknown): void {
  const problems = [...Value.Errors(schema, value)].slice(0, 3).map((e) => `${e.path}: ${e.message}`);
  expect(problems, JSON.stringify(value)).toEqual([]);
}

describe("opening a database the Python reference wrote", () => {
  for (const version of [1, null] as const) {
    test(`every read answers over HTTP, with values that fit the models (schema_migrations ${version === null ? "empty" : `at ${version}`})`, async () => {
      const store = openReference(version);
      const app = createApp(store, {
        pid: 1,
        version: "0.0.0",
        startedAt: new Date(),
        projectDir: "/p",
        transport: "unix",
        socket: "/p/s",
        port: null,
      });
      const get = async (path: string) => {
        const response = await app.handle(new Request(`http://localhost${path}`));
        const body = await response.json();
        expect(response.status, `${path}: ${JSON.stringify(body)}`).toBe(200);
        return body;
      };
      fits(DaemonStatus, await get("/status"));
      const list = (await get("/work-units")) as WorkUnitList;
      fits(WorkUnitList, list);
      // Nothing dropped: every unit is there, in creation order.
      expect(list.count).toBe(REFERENCE_UNITS.length);
      for (const unit of list.work_units) {
        expect(isValidChunkName(unit.chunk)).toBe(true);
        fits(WorkUnit, await get(`/work-units/${unit.chunk}`));
        fits(History, await get(`/work-units/${unit.chunk}/history`));
      }
      for (const status of ["READY", "BLOCKED", "DONE", "NEEDS_ATTENTION"]) fits(WorkUnitList, await get(`/work-units?status=${status}`));
    });
  }

  test("names ve cannot accept are renamed, reported, and recorded in the history with the original name", () => {
    const store = openReference();
    expect(store.list().map((u) => u.chunk)).toEqual(["alpha", "my-chunk", "a-b-2", "a-b", "weird", "needs", "x.y-lock"]);
    for (const [from, to] of RENAMES) {
      expect(store.migrationNotes.some((n) => n.includes(`'${from}'`) && n.includes(`'${to}'`))).toBe(true);
      const renamed = store.history(to).filter((h) => h.reason?.includes(`renamed from '${from}'`));
      expect(renamed.length).toBe(1);
    }
    // The history the reference logged moved with the unit.
    expect(store.history("my-chunk").slice(0, 2).map((h) => [h.old_status, h.new_status])).toEqual([
      [null, "READY"],
      ["READY", "RUNNING"],
    ]);
    // Blocker lists follow the renames; a blocker that is no unit is renamed the same way; a number is a name.
    expect(store.get("a-b-2").blocked_by).toEqual(["my-chunk", "ghost-name", "7"]);
    expect(store.migrationNotes.some((n) => n.includes("'ghost name'") && n.includes("'ghost-name'"))).toBe(true);
    // The valid 'a-b' is still itself, untouched by the rename of 'a/b'.
    expect(store.get("a-b").status).toBe("DONE");
  });

  test("timestamps are ISO-8601 UTC with milliseconds, converted from every offset and shape", () => {
    const store = openReference();
    const byName = new Map(store.list().map((u) => [u.chunk, u]));
    expect(byName.get("alpha")?.created_at).toBe("2026-01-11T16:31:05.123Z");
    expect(byName.get("alpha")?.updated_at).toBe("2026-01-11T16:32:00.500Z");
    expect(byName.get("my-chunk")?.created_at).toBe("2026-01-11T16:31:05.123Z");
    expect(byName.get("a-b-2")?.created_at).toBe("2026-01-11T16:31:05.000Z");
    expect(byName.get("a-b-2")?.updated_at).toBe("2026-01-11T16:31:05.999Z");
    expect(byName.get("needs")?.updated_at).toBe("2026-01-11T22:01:05.120Z");
    expect(byName.get("weird")?.updated_at).toBe("2026-01-11T16:21:05.250Z");
    for (const unit of byName.values()) {
      expect(unit.created_at).toMatch(ISO_MS_UTC);
      expect(unit.updated_at).toMatch(ISO_MS_UTC);
      for (const entry of store.history(unit.chunk)) expect(entry.timestamp).toMatch(ISO_MS_UTC);
    }
    const raw = store.db.query("SELECT status_changed_at FROM work_units").all() as { status_changed_at: string }[];
    for (const row of raw) expect(row.status_changed_at).toMatch(ISO_MS_UTC);
  });

  test("statuses and phases in other shapes are mapped; values ve has no word for are kept in the history", () => {
    const store = openReference();
    expect(store.get("a-b").status).toBe("DONE");
    expect(store.get("a-b-2").phase).toBe("IMPLEMENT");
    expect(store.get("needs").status).toBe("NEEDS_ATTENTION");
    expect(store.get("needs").phase).toBe("IMPLEMENT");
    // RUNNING behind an unfinished blocker is not allowed: BLOCKED, and logged.
    expect(store.get("my-chunk").status).toBe("BLOCKED");
    const weird = store.get("weird");
    expect([weird.status, weird.phase]).toEqual(["NEEDS_ATTENTION", "GOAL"]);
    const said = store
      .history("weird")
      .map((h) => h.reason ?? "")
      .join("\n");
    for (const original of ["'PAUSED'", "'REVIEW'", "'not json'", "'yesterday'", "'not a time'"]) expect(said).toContain(original);
    // The empty worktree the reference wrote means none.
    expect(store.get("my-chunk").worktree).toBeNull();
    expect(store.get("a-b-2").worktree).toBe("/work/a b");
    // Every log row the reference wrote is still there.
    const logged = (store.db.query("SELECT count(*) AS n FROM status_log WHERE reason IS NULL").get() as { n: number }).n;
    expect(logged).toBe(REFERENCE_LOG.length - 1);
  });

  test("the converted units take writes, the file passes integrity_check, and a re-open converts nothing", () => {
    const path = newPath();
    writeReferenceDatabase(path);
    const store = Store.open(path, { exclusive: true });
    expect(store.migrationNotes.length).toBeGreaterThan(0);
    store.update("alpha", { status: "DONE" });
    expect(store.get("x.y-lock").status).toBe("READY");
    store.update("a-b-2", { worktree: "/w" });
    expect(store.db.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
    expect(store.db.query("PRAGMA foreign_key_check").all()).toEqual([]);
    const before = store.list();
    store.close();
    const again = Store.open(path, { exclusive: true });
    try {
      expect(again.appliedMigrations).toEqual([]);
      expect(again.migrationNotes).toEqual([]);
      expect(again.list()).toEqual(before);
    } finally {
      again.close();
    }
  });
});

describe("normalizeTimestamp", () => {
  const cases: [unknown, string | null][] = [
    ["2026-01-11T16:31:05.123456+00:00", "2026-01-11T16:31:05.123Z"],
    ["2026-01-11T16:31:05.123456", "2026-01-11T16:31:05.123Z"],
    ["2026-01-11T16:31:05", "2026-01-11T16:31:05.000Z"],
    ["2026-01-11 16:31:05", "2026-01-11T16:31:05.000Z"],
    ["2026-01-11T16:31:05.5z", "2026-01-11T16:31:05.500Z"],
    ["2026-01-11T00:30:00+01:00", "2026-01-10T23:30:00.000Z"],
    ["2026-01-11T16:31:05-0500", "2026-01-11T21:31:05.000Z"],
    ["2026-01-11", "2026-01-11T00:00:00.000Z"],
    [1768148465, "2026-01-11T16:21:05.000Z"],
    [1768148465250, "2026-01-11T16:21:05.250Z"],
    ["1768148465.25", "2026-01-11T16:21:05.250Z"],
    ["2026-02-31T00:00:00", null],
    ["2026-01-11T25:00:00", null],
    ["yesterday", null],
    ["", null],
    [null, null],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} -> ${expected}`, () => expect(normalizeTimestamp(input)).toBe(expected));
  }
});

test("the reference's database, as written, breaks ve's reads without the conversion (the fixture is honest)", () => {
  const path = newPath();
  writeReferenceDatabase(path);
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.query("SELECT chunk, created_at FROM work_units").all() as { chunk: string; created_at: string }[];
    expect(rows.some((r) => !isValidChunkName(r.chunk))).toBe(true);
    expect(rows.some((r) => !ISO_MS_UTC.test(String(r.created_at)))).toBe(true);
  } finally {
    db.close();
  }
});
