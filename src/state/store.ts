// The state: the one object that owns the database, its immediate transaction and the change
// feed. What it keeps is in table groups, one module each, every one written through this
// object's transaction: units (units.ts, and the scheduled units' engine rows, engine-rows.ts),
// runs (runs.ts, which holds the rule that a scheduled unit is RUNNING only with exactly one
// open run), attention (attention.ts) and settings (settings.ts). A new group is a module taking
// the StateContext (context.ts) and one readonly field here. Each committed transaction is
// published on the change feed (`onChange`); a transaction that rolls back publishes nothing.
import type { Database } from "bun:sqlite";
import type { ChangeRequest } from "../domain.ts";
import type {
  ClaimWorkUnit,
  CreateWorkUnit,
  StatusCounts,
  StatusLogEntry,
  UpdateWorkUnit,
  WorkUnit,
  WorkUnitChange,
  WorkUnitChanged,
  WorkUnitFilter,
} from "../models/index.ts";
import { AttentionRecords } from "./attention.ts";
import type { StateContext } from "./context.ts";
import { type OpenDatabaseOptions, closeDatabase, describeStorageFailure, openDatabase } from "./database.ts";
import { EngineRows } from "./engine-rows.ts";
import { Runs } from "./runs.ts";
import { Settings } from "./settings.ts";
import { type DeleteOptions, type Schedule, Units } from "./units.ts";

export type { DeleteOptions, Schedule } from "./units.ts";

/** Receives the changes of one committed transaction, in the order they were made. */
export type ChangeListener = (changes: readonly WorkUnitChange[]) => void;

export interface StoreOptions extends OpenDatabaseOptions {
  /** Milliseconds since the epoch; injectable so tests can pin time. */
  now?: () => number;
  /** Where a change listener's failure is reported; the write it heard of stays committed. */
  onListenerError?: (error: unknown) => void;
}

export class Store {
  readonly db: Database;
  readonly path: string;
  /** Migration versions applied when this store opened the database. */
  readonly appliedMigrations: readonly number[];
  /**
   * No other process can write this database (the daemon's store): what the change feed
   * reports is then every change there is, and answers may be kept until it reports one.
   */
  readonly exclusive: boolean;
  /** What those migrations converted that a person should be told, one sentence each. */
  readonly migrationNotes: readonly string[];

  readonly units: Units;
  readonly engineRows: EngineRows;
  readonly runs: Runs;
  readonly attention: AttentionRecords;
  readonly settings: Settings;

  private readonly now: () => number;
  private readonly onListenerError: (error: unknown) => void;
  private readonly listeners = new Set<ChangeListener>();
  /** Changes made by the transaction in progress, published once it commits. */
  private pending: WorkUnitChange[] = [];
  private counts: StatusCounts | undefined;

  private constructor(db: Database, path: string, applied: number[], notes: string[], options: StoreOptions) {
    this.db = db;
    this.path = path;
    this.appliedMigrations = applied;
    this.migrationNotes = notes;
    this.now = options.now ?? Date.now;
    this.exclusive = options.exclusive === true;
    this.onListenerError = options.onListenerError ?? ((error) => console.error("ve: a change listener failed:", error));
    const context: StateContext = {
      db,
      path,
      write: (change) => this.write(change),
      read: (query) => this.read(query),
      record: (change) => this.pending.push(change),
      timestamp: (after, floor) => this.timestamp(after, floor),
    };
    this.runs = new Runs(context, () => this);
    this.units = new Units(context, (chunk, force, why) => this.runs.endForPerson(chunk, force, why));
    this.engineRows = new EngineRows(context);
    this.attention = new AttentionRecords(context);
    this.settings = new Settings(context);
  }

  static open(path: string, options: StoreOptions = {}): Store {
    const { db, applied, notes } = openDatabase(path, options);
    return new Store(db, path, applied, notes, options);
  }

  /**
   * The change feed: `listener` hears of every committed transaction that changed a unit,
   * after the commit. Returns the function that stops it listening.
   */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `work` (writes through this store, and whatever must hold for them to stand, like
   * the answer to send) as one transaction: if it throws, none of its writes is kept, and the
   * change feed hears of it once, after the commit.
   */
  atomically<T>(work: () => T): T {
    return this.write(work);
  }

  close(): void {
    closeDatabase(this.db);
  }

  // --- the work units (units.ts), as the API and the engine call them ----------------------

  get(chunk: string): WorkUnit {
    return this.units.get(chunk);
  }

  list(filter: WorkUnitFilter = {}): WorkUnit[] {
    return this.units.list(filter);
  }

  /** Kept between writes when exclusive: with many units this is a scan, and `status` is polled. */
  countsByStatus(): StatusCounts {
    if (this.exclusive && this.counts) return { ...this.counts };
    const counts = this.units.countsByStatus();
    if (this.exclusive) this.counts = { ...counts };
    return counts;
  }

  history(chunk: string): StatusLogEntry[] {
    return this.units.history(chunk);
  }

  create(input: CreateWorkUnit, schedule?: Schedule): WorkUnit {
    return this.units.create(input, schedule);
  }

  update(chunk: string, input: UpdateWorkUnit): WorkUnitChanged {
    return this.units.update(chunk, input);
  }

  claim(input: ClaimWorkUnit = {}): WorkUnitChanged {
    return this.units.claim(input);
  }

  engineChange(chunk: string, patch: ChangeRequest & { worktree?: string | null }, reason: string): WorkUnitChanged {
    return this.units.engineChange(chunk, patch, reason);
  }

  delete(chunk: string, options: DeleteOptions = {}): void {
    this.units.delete(chunk, options);
  }

  // --- the transaction ---------------------------------------------------------------------

  /**
   * Runs a write transaction; its changes are published only once the outermost transaction
   * has committed. Inside another one it is a savepoint: if it rolls back, its changes are
   * forgotten while the outer transaction goes on. A disk that refuses the write (full,
   * read-only, failing) rolls it back whole and is reported as the condition it is.
   */
  private write<T>(change: () => T): T {
    if (this.db.inTransaction) {
      const mark = this.pending.length;
      try {
        return this.db.transaction(change)();
      } catch (error) {
        this.pending.length = mark;
        throw error;
      }
    }
    this.pending = [];
    let result: T;
    try {
      result = this.db.transaction(change).immediate();
    } catch (error) {
      this.pending = [];
      throw describeStorageFailure(error, this.path) ?? error;
    }
    const changes = this.pending;
    this.pending = [];
    if (changes.length > 0) this.publish(changes);
    return result;
  }

  private publish(changes: readonly WorkUnitChange[]): void {
    this.counts = undefined;
    for (const listener of this.listeners) {
      try {
        listener(changes);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  /** A read; on a full disk reads keep working, but a failing one is reported as such. */
  private read<T>(query: () => T): T {
    try {
      return query();
    } catch (error) {
      throw describeStorageFailure(error, this.path, "read") ?? error;
    }
  }

  /**
   * Now, but strictly after `after` (and `floor`): updated_at is the compare-and-set token, so
   * two writes within one millisecond must still give two different values.
   */
  private timestamp(after?: string, floor?: string): string {
    let ms = this.now();
    if (after !== undefined) ms = Math.max(ms, Date.parse(after) + 1);
    if (floor !== undefined) ms = Math.max(ms, Date.parse(floor));
    return new Date(ms).toISOString();
  }
}
