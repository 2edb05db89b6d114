// Schema migrations, embedded in the binary: a compiled `ve` never reads sql/ at run time.
// Keep MIGRATIONS in step with sql/ (a test compares them).
import type { Database } from "bun:sqlite";
import m0001 from "../../sql/0001_init.sql" with { type: "text" };
import m0002 from "../../sql/0002_blockers_and_log_detail.sql" with { type: "text" };
import m0003 from "../../sql/0003_dependency_graph_and_status_time.sql" with { type: "text" };
import m0004 from "../../sql/0004_reference_data_and_incarnations.sql" with { type: "text" };
import m0005 from "../../sql/0005_engine.sql" with { type: "text" };
import m0006 from "../../sql/0006_agent_calls.sql" with { type: "text" };
import m0007 from "../../sql/0007_operator_answers.sql" with { type: "text" };
import m0008 from "../../sql/0008_attention_code.sql" with { type: "text" };
import m0009 from "../../sql/0009_base_tips.sql" with { type: "text" };
import m0010 from "../../sql/0010_costs.sql" with { type: "text" };
import m0011 from "../../sql/0011_gate.sql" with { type: "text" };
import { VeError } from "../errors.ts";
import { convertReferenceData } from "./reference-data.ts";

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * A conversion that needs code (renames, parsing), run after `sql` inside the same
   * transaction, so the version is recorded only with its whole effect. Returns sentences for
   * the start-up report.
   */
  convert?: (db: Database, now: string) => string[];
}

export interface MigrationResult {
  /** Versions applied by this call; empty when the schema was already current. */
  applied: number[];
  /** What the conversions changed that a person should know about (renamed units, ...). */
  notes: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "0001_init.sql", sql: m0001 },
  { version: 2, name: "0002_blockers_and_log_detail.sql", sql: m0002 },
  { version: 3, name: "0003_dependency_graph_and_status_time.sql", sql: m0003 },
  { version: 4, name: "0004_reference_data_and_incarnations.sql", sql: m0004, convert: convertReferenceData },
  { version: 5, name: "0005_engine.sql", sql: m0005 },
  { version: 6, name: "0006_agent_calls.sql", sql: m0006 },
  { version: 7, name: "0007_operator_answers.sql", sql: m0007 },
  { version: 8, name: "0008_attention_code.sql", sql: m0008 },
  { version: 9, name: "0009_base_tips.sql", sql: m0009 },
  { version: 10, name: "0010_costs.sql", sql: m0010 },
  { version: 11, name: "0011_gate.sql", sql: m0011 },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** 0 for a database no migration has touched. Reads only. */
export function readSchemaVersion(db: Database): number {
  const table = db
    .query("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (!table) return 0;
  const row = db.query("SELECT max(version) AS version FROM schema_migrations").get() as {
    version: number | null;
  };
  return row.version ?? 0;
}

export function assertSchemaNotNewer(db: Database, path: string, known: number): number {
  const version = readSchemaVersion(db);
  if (version > known) {
    throw new VeError(
      "schema_too_new",
      `The database ${path} has schema version ${version} but this ve only knows up to ${known}; ` +
        "upgrade ve to use it (the database was left untouched).",
      { path, schema_version: version, known_version: known },
    );
  }
  return version;
}

/**
 * Applies the pending migrations in one immediate transaction and returns the versions it
 * applied. Several processes may open a new database at once: the write lock makes the others
 * wait, and they then find nothing left to apply.
 */
export function migrate(
  db: Database,
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => string = () => new Date().toISOString(),
): MigrationResult {
  const known = migrations[migrations.length - 1]?.version ?? 0;
  if (assertSchemaNotNewer(db, path, known) === known) return { applied: [], notes: [] };
  return db
    .transaction(() => {
      const current = assertSchemaNotNewer(db, path, known);
      const result: MigrationResult = { applied: [], notes: [] };
      for (const migration of migrations) {
        if (migration.version <= current) continue;
        const at = now();
        db.run(migration.sql);
        if (migration.convert) result.notes.push(...migration.convert(db, at));
        db.query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(migration.version, at);
        result.applied.push(migration.version);
      }
      return result;
    })
    .immediate();
}
