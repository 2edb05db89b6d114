// Opening the SQLite file: the pragmas of the design, in the order that survives several
// processes opening a new database at once, and refusals that never modify the file.
import { Database } from "bun:sqlite";
import { closeSync, statfsSync } from "node:fs";
import { dirname } from "node:path";
import { VeError, storageFault } from "../errors.ts";
import { checkStateFile, openStateFile } from "../project/safe-files.ts";
import { LATEST_SCHEMA_VERSION, type Migration, MIGRATIONS, assertSchemaNotNewer, migrate } from "./migrations.ts";

/** How long a writer waits for another process's write lock before giving up. */
export const BUSY_TIMEOUT_MS = 5000;
export const DB_FILE_MODE = 0o600;
const WAL_SWITCH_RETRY_MS = 5;

export interface OpenDatabaseOptions {
  /** Run `PRAGMA quick_check` before use (the daemon does; it reads the whole file). */
  check?: boolean;
  /** Override the embedded migrations (tests of the upgrade path). */
  migrations?: readonly Migration[];
  /**
   * Hold the database for this connection's whole life (the daemon). No other process can
   * then read or write it, and reads skip the per-statement file locking of shared WAL mode
   * (two fcntl calls and an fstat per read, most of a point lookup's cost).
   */
  exclusive?: boolean;
}

export interface OpenedDatabase {
  db: Database;
  /** Versions applied by this open; empty when the schema was already current. */
  applied: number[];
  /** What those migrations converted that a person should be told (renamed units, ...). */
  notes: string[];
}

function sqliteCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

/** Whether the file system holding `path` has no block (or no inode) left for us. */
function noSpaceLeft(path: string): boolean {
  try {
    const fs = statfsSync(dirname(path));
    return fs.bavail === 0 || fs.ffree === 0;
  } catch {
    return false;
  }
}

/**
 * A failure of the disk under the database (full, read-only, I/O error, permission) or a
 * database another process holds, as a VeError naming the file; undefined for anything else.
 * SQLite reports some writes that hit a full disk as I/O errors: the free space decides.
 */
export function describeStorageFailure(error: unknown, path: string, action = "write to"): VeError | undefined {
  if (error instanceof VeError) return error;
  const code = sqliteCode(error);
  if (code?.startsWith("SQLITE_BUSY") || code?.startsWith("SQLITE_LOCKED")) {
    return new VeError(
      "database_unavailable",
      `The database ${path} is locked by another process (${code}); retry, and stop any other program that holds it.`,
      { path, sqlite_code: code },
    );
  }
  if (code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB") {
    return new VeError(
      "database_corrupt",
      `The database ${path} is damaged (${code}); stop the daemon, then restore a backup or move the file aside.`,
      { path, sqlite_code: code },
    );
  }
  const full = code?.startsWith("SQLITE_IOERR") === true && noSpaceLeft(path);
  return storageFault(error, path, action, full);
}

function describeOpenFailure(error: unknown, path: string): VeError {
  if (error instanceof VeError) return error;
  const code = sqliteCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return new VeError(
      "database_corrupt",
      `The database ${path} is damaged or not a SQLite database (${reason}); ve left it untouched: ` +
        "restore a backup, or move it aside to start with an empty state.",
      { path, sqlite_code: code },
    );
  }
  const fault = describeStorageFailure(error, path, "open the database");
  if (fault) return fault;
  return new VeError(
    "database_unavailable",
    `The database ${path} cannot be opened (${reason}); check that the file and its folder are readable and writable by you.`,
    { path, sqlite_code: code },
  );
}

/**
 * Creates the file 0600 if absent, so SQLite (which copies the mode to -wal/-shm) never widens
 * it. SQLite opens the database and the files beside it by name, following links: each is
 * checked first (none may be a link, another user's or have a second name), and the database
 * is opened once here without following one. `.ve/` is the user's own and 0700 (checked by
 * ensureStateDir), so nothing can be swapped in between.
 */
function ensureFile(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) checkStateFile(file);
  try {
    closeSync(openStateFile(path, "readwrite", DB_FILE_MODE));
  } catch (error) {
    // Refusals, permission and disk faults already name the path and the cause.
    if (!(error instanceof VeError) || error.code !== "io_failed") throw error;
    const missing = (error.details as { errno_code?: string } | undefined)?.errno_code === "ENOENT";
    throw new VeError(
      "database_unavailable",
      missing
        ? `The database ${path} cannot be created: its folder ${dirname(path)} does not exist.`
        : `The database ${path} cannot be opened or created (${error.message}).`,
      { path },
    );
  }
}

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): OpenedDatabase {
  const migrations = options.migrations ?? MIGRATIONS;
  ensureFile(path);
  let db: Database;
  try {
    db = new Database(path, { strict: true, readwrite: true, create: false });
  } catch (error) {
    throw describeOpenFailure(error, path);
  }
  try {
    // busy_timeout before WAL: the switch to WAL takes a lock that racing openers must wait on.
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Read-only checks first: a file we refuse must not be touched by the WAL switch.
    db.query("SELECT count(*) FROM sqlite_master").get();
    assertSchemaNotNewer(db, path, migrations[migrations.length - 1]?.version ?? LATEST_SCHEMA_VERSION);
    if (options.check) {
      const rows = db.query("PRAGMA quick_check").all() as { quick_check: string }[];
      if (rows.length !== 1 || rows[0]?.quick_check !== "ok") {
        const problems = rows
          .slice(0, 5)
          .map((r) => r.quick_check.replaceAll(/\s+/g, " ").trim())
          .join("; ");
        throw new VeError(
          "database_corrupt",
          `The database ${path} failed its integrity check (${problems}); ve left it untouched: ` +
            "restore a backup, or move it aside to start with an empty state.",
          { path },
        );
      }
    }
    // Only after the refusal checks: a refused file is closed with a reader beside it.
    if (options.exclusive) db.run("PRAGMA locking_mode = EXCLUSIVE");
    switchToWal(db);
    db.run("PRAGMA synchronous = NORMAL");
    db.run("PRAGMA foreign_keys = ON");
    const { applied, notes } = migrate(db, path, migrations);
    // An exclusive connection keeps the locks of its first write: take them now, not at the
    // first request, so a second process is refused at once rather than racing later.
    if (options.exclusive) db.transaction(() => {}).immediate();
    return { db, applied, notes };
  } catch (error) {
    closeUntouched(db, path);
    throw describeOpenFailure(error, path);
  }
}

function isBusy(error: unknown): boolean {
  return sqliteCode(error)?.startsWith("SQLITE_BUSY") === true;
}

/**
 * Switching to WAL answers SQLITE_BUSY at once, without the busy handler, while another
 * process is in the middle of the same switch on a new database: wait it out like
 * busy_timeout would.
 */
function switchToWal(db: Database): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      db.run("PRAGMA journal_mode = WAL");
      return;
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      Bun.sleepSync(WAL_SWITCH_RETRY_MS);
    }
  }
}

/**
 * Closes a database we refuse without writing to it. The last connection to close a WAL
 * database merges the WAL into the main file; a read-only connection held open across our
 * close makes ours not the last, and being read-only it cannot merge on its own close.
 */
function closeUntouched(db: Database, path: string): void {
  let reader: Database | undefined;
  try {
    reader = new Database(path, { readonly: true });
    reader.query("SELECT 1").get();
  } catch {
    // Not a database at all, or unreadable: there is no WAL to merge either.
  }
  db.close();
  reader?.close();
}

/** Checkpoints the WAL into the main file so a stopped project is one self-contained file. */
export function closeDatabase(db: Database): void {
  try {
    db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}
