// Shared helpers of the store tests: a fresh database per test, raw views of the tables, and
// an assertion that a call fails with a given VeError code.
import { afterEach, expect } from "bun:test";
import { join } from "node:path";
import type { ErrorCode } from "../../src/errors.ts";
import { VeError } from "../../src/errors.ts";
import { Store, type StoreOptions } from "../../src/state/store.ts";
import { useTempDirs } from "../helpers/temp.ts";

export const BUN = process.execPath;
export const FIXTURES = join(import.meta.dir, "fixtures");
export const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Call at the top level of a test file. Returns `open(options?)`, which opens a Store on a new
 * database in a directory of its own; every store it opened is closed after each test.
 */
export function useStores(label: string): {
  open: (options?: StoreOptions) => Store;
  newPath: () => string;
} {
  const tempDir = useTempDirs(label);
  const opened: Store[] = [];
  afterEach(() => {
    for (const store of opened.splice(0)) {
      try {
        store.close();
      } catch {
        // already closed by the test
      }
    }
  });
  const newPath = () => join(tempDir(), "orchestrator.db");
  return {
    newPath,
    open: (options?: StoreOptions) => {
      const store = Store.open(newPath(), options);
      opened.push(store);
      return store;
    },
  };
}

/** Runs `fn`, which must throw a VeError with `code`; returns the error for further checks. */
export function expectVeError(fn: () => unknown, code: ErrorCode): VeError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error(`expected a VeError '${code}', but the call succeeded`);
  if (!(thrown instanceof VeError)) throw new Error(`expected a VeError '${code}', got: ${String(thrown)}`);
  expect(thrown.code).toBe(code);
  return thrown;
}

export interface RawLogRow {
  id: number;
  chunk: string;
  old_status: string | null;
  new_status: string;
  old_phase: string | null;
  new_phase: string | null;
  reason: string | null;
  forced: number;
  timestamp: string;
}

export function logRows(store: Store, chunk?: string): RawLogRow[] {
  return (
    chunk === undefined
      ? store.db.query("SELECT * FROM status_log ORDER BY id").all()
      : store.db.query("SELECT * FROM status_log WHERE chunk = ? ORDER BY id").all(chunk)
  ) as RawLogRow[];
}

export function count(store: Store, table: "work_units" | "status_log" | "work_unit_blockers"): number {
  return (store.db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

/** Everything the store persists, to show that a refused call wrote nothing. */
export function snapshot(store: Store): unknown {
  return {
    units: store.db.query("SELECT * FROM work_units ORDER BY rowid").all(),
    blockers: store.db.query("SELECT * FROM work_unit_blockers ORDER BY id").all(),
    log: store.db.query("SELECT * FROM status_log ORDER BY id").all(),
  };
}
