// What a table module of the state gets from the one object that owns the database (store.ts):
// the handle, the immediate transaction, the change feed and the clock. A module never opens a
// transaction or publishes a change of its own: it writes through `write`, which nests, so a
// module's method is one transaction alone and a part of its caller's inside another.
import type { Database } from "bun:sqlite";
import type { WorkUnitChange } from "../models/index.ts";

export interface StateContext {
  readonly db: Database;
  readonly path: string;
  /**
   * Runs `change` as one immediate transaction (a savepoint inside another); the changes it
   * recorded are published once the outermost transaction has committed.
   */
  write<T>(change: () => T): T;
  /** A read; a failing disk is reported as the condition it is. */
  read<T>(query: () => T): T;
  /** A change of a unit for the change feed, published with the transaction it belongs to. */
  record(change: WorkUnitChange): void;
  /**
   * Now as ISO 8601, strictly after `after` (and not before `floor`) when given: updated_at is
   * the compare-and-set token, so two writes within one millisecond still differ.
   */
  timestamp(after?: string, floor?: string): string;
}
