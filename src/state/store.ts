// The work-unit store: every rule of a work unit lives here, and every change happens in one
// immediate transaction together with its status-log rows, so a reader never sees a change
// without its log entry and two processes never interleave a read-modify-write.
import type { Database } from "bun:sqlite";
import {
  type Phase,
  STATUSES,
  STATUSES_NEEDING_FREE_PATH,
  STATUS_TRANSITIONS,
  type Status,
  isPhaseForward,
  isStatusTransitionAllowed,
} from "../domain.ts";
import { VeError } from "../errors.ts";
import {
  ChunkName,
  CreateWorkUnit,
  type StatusCounts,
  type StatusLogEntry,
  UpdateWorkUnit,
  type WorkUnit,
  WorkUnitFilter,
} from "../models/index.ts";
import { compileValidator } from "../validation.ts";
import { type OpenDatabaseOptions, closeDatabase, describeStorageFailure, openDatabase } from "./database.ts";

const checkChunk = compileValidator(ChunkName, "chunk");
const checkCreate = compileValidator(CreateWorkUnit, "body");
const checkUpdate = compileValidator(UpdateWorkUnit, "body");
const checkFilter = compileValidator(WorkUnitFilter, "query");

interface UnitRow {
  chunk: string;
  phase: Phase;
  status: Status;
  worktree: string | null;
  created_at: string;
  updated_at: string;
}

interface LogRow {
  id: number;
  chunk: string;
  old_status: Status | null;
  new_status: Status;
  old_phase: Phase | null;
  new_phase: Phase | null;
  reason: string | null;
  forced: number;
  timestamp: string;
}

interface LogChange {
  chunk: string;
  oldStatus: Status | null;
  newStatus: Status;
  oldPhase: Phase | null;
  newPhase: Phase;
  reason: string;
  forced: boolean;
  timestamp: string;
}

export interface StoreOptions extends OpenDatabaseOptions {
  /** Milliseconds since the epoch; injectable so tests can pin time. */
  now?: () => number;
}

export interface DeleteOptions {
  force?: boolean;
}

const UNIT_COLUMNS = "chunk, phase, status, worktree, created_at, updated_at";
const UNIT_WITH_BLOCKERS =
  `SELECT ${UNIT_COLUMNS}, (SELECT json_group_array(blocker) FROM ` +
  "(SELECT blocker FROM work_unit_blockers AS b WHERE b.chunk = w.chunk ORDER BY b.id)) AS blocked_by " +
  "FROM work_units AS w WHERE w.chunk = ?";

function notFound(chunk: string): VeError {
  return new VeError("not_found", `No work unit named '${chunk}'; \`ve orch ps\` lists the existing ones.`, { chunk });
}

function dedupe(names: readonly string[]): string[] {
  return [...new Set(names)];
}

function quoteList(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(", ");
}

/** Fields in the order of the design, which is the order JSON output shows them. */
function toWorkUnit(row: UnitRow, blockers: string[]): WorkUnit {
  return {
    chunk: row.chunk,
    phase: row.phase,
    status: row.status,
    blocked_by: blockers,
    worktree: row.worktree,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export class Store {
  readonly db: Database;
  readonly path: string;
  /** Migration versions applied when this store opened the database. */
  readonly appliedMigrations: readonly number[];
  private readonly now: () => number;
  private readonly exclusive: boolean;
  /** Committed writes through this store. */
  private writes = 0;
  private counts: { at: number; value: StatusCounts } | undefined;

  private constructor(db: Database, path: string, applied: number[], now: () => number, exclusive: boolean) {
    this.db = db;
    this.path = path;
    this.appliedMigrations = applied;
    this.now = now;
    this.exclusive = exclusive;
  }

  static open(path: string, options: StoreOptions = {}): Store {
    const { db, applied } = openDatabase(path, options);
    return new Store(db, path, applied, options.now ?? Date.now, options.exclusive === true);
  }

  /**
   * A number that changes whenever the data may have changed, for callers that keep answers
   * to reads; `undefined` when other processes may write to the database too (no store opened
   * without `exclusive` can know when that happens).
   */
  dataVersion(): number | undefined {
    return this.exclusive ? this.writes : undefined;
  }

  /**
   * Runs a write transaction and counts it once committed. A disk that refuses the write
   * (full, read-only, failing) rolls it back whole and is reported as the condition it is.
   */
  private write<T>(change: () => T): T {
    let result: T;
    try {
      result = this.db.transaction(change).immediate();
    } catch (error) {
      throw describeStorageFailure(error, this.path) ?? error;
    }
    this.writes++;
    return result;
  }

  /**
   * Runs `work` (writes through this store, and whatever must hold for them to stand, like
   * the answer to send) as one transaction: if it throws, none of its writes is kept.
   */
  atomically<T>(work: () => T): T {
    return this.write(work);
  }

  /** A read; on a full disk reads keep working, but a failing one is reported as such. */
  private read<T>(query: () => T): T {
    try {
      return query();
    } catch (error) {
      throw describeStorageFailure(error, this.path, "read") ?? error;
    }
  }

  close(): void {
    closeDatabase(this.db);
  }

  // --- reads -------------------------------------------------------------------------------

  /** One statement, so the unit and its blockers are one snapshot whoever else writes. */
  get(chunk: unknown): WorkUnit {
    const name = checkChunk(chunk);
    const row = this.read(() => this.db.query(UNIT_WITH_BLOCKERS).get(name)) as (UnitRow & { blocked_by: string }) | null;
    if (!row) throw notFound(name);
    return toWorkUnit(row, JSON.parse(row.blocked_by) as string[]);
  }

  list(filter: unknown = {}): WorkUnit[] {
    const { status, phase } = checkFilter(filter);
    const where: string[] = [];
    const params: string[] = [];
    if (status !== undefined) {
      where.push("status = ?");
      params.push(status);
    }
    if (phase !== undefined) {
      where.push("phase = ?");
      params.push(phase);
    }
    const sql = `SELECT ${UNIT_COLUMNS} FROM work_units${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY rowid`;
    return this.read(() => this.db
      .transaction(() => {
        const rows = this.db.query(sql).all(...params) as UnitRow[];
        const blockers = new Map<string, string[]>();
        const edges = this.db.query("SELECT chunk, blocker FROM work_unit_blockers ORDER BY id").all() as {
          chunk: string;
          blocker: string;
        }[];
        for (const { chunk, blocker } of edges) {
          const list = blockers.get(chunk);
          if (list) list.push(blocker);
          else blockers.set(chunk, [blocker]);
        }
        return rows.map((row) => toWorkUnit(row, blockers.get(row.chunk) ?? []));
      })
      .deferred());
  }

  /** Kept between writes when exclusive: with many units this is a scan, and `status` is polled. */
  countsByStatus(): StatusCounts {
    const version = this.dataVersion();
    if (version !== undefined && this.counts?.at === version) return { ...this.counts.value };
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as StatusCounts;
    const rows = this.read(() => this.db.query("SELECT status, count(*) AS n FROM work_units GROUP BY status").all()) as {
      status: Status;
      n: number;
    }[];
    for (const { status, n } of rows) counts[status] = n;
    if (version !== undefined) this.counts = { at: version, value: { ...counts } };
    return counts;
  }

  history(chunk: unknown): StatusLogEntry[] {
    const name = checkChunk(chunk);
    return this.read(() => this.db
      .transaction(() => {
        this.requireRow(name);
        const rows = this.db
          .query(
            "SELECT id, chunk, old_status, new_status, old_phase, new_phase, reason, forced, timestamp " +
              "FROM status_log WHERE chunk = ? ORDER BY id",
          )
          .all(name) as LogRow[];
        return rows.map((row) => ({ ...row, forced: row.forced !== 0 }));
      })
      .deferred());
  }

  // --- writes ------------------------------------------------------------------------------

  create(input: unknown): WorkUnit {
    const body = checkCreate(input);
    const chunk = body.chunk;
    return this.write(() => {
      if (this.findRow(chunk)) {
        throw new VeError("already_exists", `Work unit '${chunk}' already exists; update it instead, or delete it first.`, {
          chunk,
        });
      }
      const blockers = this.admitBlockers(chunk, body.blocked_by ?? []);
      let status: Status;
      if (body.status !== undefined) {
        this.assertNotBlocked(chunk, body.status, blockers);
        status = body.status;
      } else {
        status = blockers.length > 0 ? "BLOCKED" : "READY";
      }
      const phase = body.phase ?? "GOAL";
      const timestamp = this.timestamp();
      const row: UnitRow = {
        chunk,
        phase,
        status,
        worktree: body.worktree ?? null,
        created_at: timestamp,
        updated_at: timestamp,
      };
      this.db
        .query(`INSERT INTO work_units (${UNIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(chunk, phase, status, row.worktree, timestamp, timestamp);
      this.insertBlockers(chunk, blockers);
      this.log({
        chunk,
        oldStatus: null,
        newStatus: status,
        oldPhase: null,
        newPhase: phase,
        reason: blockers.length > 0 && body.status === undefined ? `created, blocked by ${quoteList(blockers)}` : "created",
        forced: false,
        timestamp,
      });
      if (status === "DONE") this.releaseDependents(chunk, `'${chunk}' is DONE`, timestamp);
      // Nothing after the insert touches this unit's own row: no need to read it back.
      return toWorkUnit(row, blockers);
    });
  }

  update(chunk: unknown, input: unknown): WorkUnit {
    const name = checkChunk(chunk);
    const patch = checkUpdate(input);
    const force = patch.force === true;
    return this.write(() => {
      const current = this.requireRow(name);
      if (patch.expected_updated_at !== undefined && patch.expected_updated_at !== current.updated_at) {
        throw new VeError(
          "stale_write",
          `Work unit '${name}' changed since you read it (updated_at is now ${current.updated_at}); read it again and retry.`,
          { chunk: name, expected_updated_at: patch.expected_updated_at, updated_at: current.updated_at },
        );
      }
      const currentBlockers = this.blockersOf(name);
      const blockers = patch.blocked_by === undefined ? currentBlockers : this.admitBlockers(name, patch.blocked_by);
      const blockersChanged =
        blockers.length !== currentBlockers.length || blockers.some((b, i) => b !== currentBlockers[i]);

      let status = current.status;
      let reason = "requested";
      let forced = false;
      if (patch.status !== undefined) {
        if (patch.status !== current.status && !isStatusTransitionAllowed(current.status, patch.status)) {
          if (!force) {
            const allowed = STATUS_TRANSITIONS[current.status].join(", ");
            throw new VeError(
              "invalid_transition",
              `Work unit '${name}' cannot go from ${current.status} to ${patch.status} (allowed: ${allowed}); pass force to override.`,
              { chunk: name, from: current.status, to: patch.status, allowed: STATUS_TRANSITIONS[current.status] },
            );
          }
          forced = true;
        }
        this.assertNotBlocked(name, patch.status, blockers);
        status = patch.status;
      } else if (blockers.length > 0 && STATUSES_NEEDING_FREE_PATH.includes(current.status)) {
        status = "BLOCKED";
        reason = `blocked by ${quoteList(blockers)}`;
      } else if (blockersChanged && current.status === "BLOCKED" && currentBlockers.length > 0 && blockers.length === 0) {
        status = "READY";
        reason = "no unfinished blockers left";
      }

      const phase = patch.phase ?? current.phase;
      if (phase !== current.phase && !isPhaseForward(current.phase, phase)) {
        if (!force) {
          throw new VeError(
            "invalid_transition",
            `Work unit '${name}' cannot move back from phase ${current.phase} to ${phase}; phases only move forward unless you pass force.`,
            { chunk: name, from: current.phase, to: phase },
          );
        }
        forced = true;
      }

      const worktree = patch.worktree === undefined ? current.worktree : patch.worktree;
      const statusChanged = status !== current.status;
      const phaseChanged = phase !== current.phase;
      if (!statusChanged && !phaseChanged && !blockersChanged && worktree === current.worktree) {
        return this.toWorkUnit(current, currentBlockers);
      }

      const timestamp = this.timestamp(current.updated_at);
      this.db
        .query("UPDATE work_units SET phase = ?, status = ?, worktree = ?, updated_at = ? WHERE chunk = ?")
        .run(phase, status, worktree, timestamp, name);
      if (blockersChanged) this.writeBlockers(name, blockers);
      if (statusChanged || phaseChanged) {
        this.log({
          chunk: name,
          oldStatus: current.status,
          newStatus: status,
          oldPhase: current.phase,
          newPhase: phase,
          reason,
          forced,
          timestamp,
        });
      }
      if (status === "DONE" && current.status !== "DONE") {
        this.releaseDependents(name, `'${name}' is DONE`, timestamp);
      }
      return this.toWorkUnit(this.requireRow(name));
    });
  }

  delete(chunk: unknown, options: DeleteOptions = {}): void {
    const name = checkChunk(chunk);
    this.write(() => {
      this.requireRow(name);
      const dependents = this.dependentsOf(name);
      if (dependents.length > 0) {
        if (!options.force) {
          throw new VeError(
            "has_dependents",
            `Work unit '${name}' is a blocker of ${quoteList(dependents)}; finish it, remove it from their blocked_by, or delete with force to release them.`,
            { chunk: name, dependents },
          );
        }
        this.releaseDependents(name, `'${name}' was deleted`, this.timestamp());
      }
      this.db.query("DELETE FROM work_units WHERE chunk = ?").run(name);
      this.db.query("DELETE FROM status_log WHERE chunk = ?").run(name);
    });
  }

  // --- rules -------------------------------------------------------------------------------

  /**
   * The blocker list a unit may store: duplicates collapsed, blockers already DONE dropped,
   * self-reference and cycles refused. What remains is unfinished by construction, and stays
   * so: a unit that becomes DONE leaves every list.
   */
  private admitBlockers(chunk: string, requested: readonly string[]): string[] {
    const names = dedupe(requested);
    if (names.includes(chunk)) {
      throw new VeError("dependency_cycle", `Work unit '${chunk}' cannot be blocked by itself; remove it from blocked_by.`, {
        chunk,
        cycle: [chunk, chunk],
      });
    }
    const unfinished = names.filter((name) => this.findRow(name)?.status !== "DONE");
    const cycle = this.findPath(unfinished, chunk);
    if (cycle) {
      const loop = [chunk, ...cycle];
      throw new VeError(
        "dependency_cycle",
        `Blocking '${chunk}' on '${cycle[0]}' would make a cycle (${loop.join(" -> ")}); remove one of these dependencies.`,
        { chunk, cycle: loop },
      );
    }
    return unfinished;
  }

  /** A path of blocker edges from one of `starts` to `target`, or undefined. */
  private findPath(starts: readonly string[], target: string): string[] | undefined {
    const blockersOf = this.db.query("SELECT blocker FROM work_unit_blockers WHERE chunk = ? ORDER BY id");
    const parent = new Map<string, string | null>();
    const queue: string[] = [];
    for (const start of starts) {
      if (!parent.has(start)) {
        parent.set(start, null);
        queue.push(start);
      }
    }
    for (let i = 0; i < queue.length; i++) {
      const node = queue[i] as string;
      if (node === target) {
        const path: string[] = [];
        for (let at: string | null | undefined = node; at != null; at = parent.get(at)) path.unshift(at);
        return path;
      }
      for (const { blocker } of blockersOf.all(node) as { blocker: string }[]) {
        if (!parent.has(blocker)) {
          parent.set(blocker, node);
          queue.push(blocker);
        }
      }
    }
    return undefined;
  }

  private assertNotBlocked(chunk: string, status: Status, unfinished: readonly string[]): void {
    if (unfinished.length > 0 && STATUSES_NEEDING_FREE_PATH.includes(status)) {
      throw new VeError(
        "blocked",
        `Work unit '${chunk}' cannot be ${status} while it waits on ${quoteList(unfinished)}; finish those first or remove them from blocked_by.`,
        { chunk, status, blocked_by: unfinished },
      );
    }
  }

  /**
   * `blocker` is finished (DONE or deleted): it leaves every list, and each BLOCKED unit whose
   * list becomes empty becomes READY. Every unit whose list changed gets a new updated_at, so
   * a compare-and-set based on an older read fails.
   */
  private releaseDependents(blocker: string, why: string, timestamp: string): void {
    const dependents = this.dependentsOf(blocker);
    if (dependents.length === 0) return;
    this.db.query("DELETE FROM work_unit_blockers WHERE blocker = ?").run(blocker);
    const remaining = this.db.query("SELECT count(*) AS n FROM work_unit_blockers WHERE chunk = ?");
    for (const chunk of dependents) {
      const row = this.requireRow(chunk);
      const free = (remaining.get(chunk) as { n: number }).n === 0;
      const next = this.timestamp(row.updated_at, timestamp);
      if (free && row.status === "BLOCKED") {
        this.db.query("UPDATE work_units SET status = 'READY', updated_at = ? WHERE chunk = ?").run(next, chunk);
        this.log({
          chunk,
          oldStatus: "BLOCKED",
          newStatus: "READY",
          oldPhase: row.phase,
          newPhase: row.phase,
          reason: `unblocked: ${why}`,
          forced: false,
          timestamp: next,
        });
      } else {
        this.db.query("UPDATE work_units SET updated_at = ? WHERE chunk = ?").run(next, chunk);
      }
    }
  }

  // --- rows --------------------------------------------------------------------------------

  private findRow(chunk: string): UnitRow | undefined {
    return (this.db.query(`SELECT ${UNIT_COLUMNS} FROM work_units WHERE chunk = ?`).get(chunk) ?? undefined) as
      | UnitRow
      | undefined;
  }

  private requireRow(chunk: string): UnitRow {
    const row = this.findRow(chunk);
    if (!row) throw notFound(chunk);
    return row;
  }

  private blockersOf(chunk: string): string[] {
    return (
      this.db.query("SELECT blocker FROM work_unit_blockers WHERE chunk = ? ORDER BY id").all(chunk) as {
        blocker: string;
      }[]
    ).map((r) => r.blocker);
  }

  private dependentsOf(blocker: string): string[] {
    return (
      this.db
        .query(
          "SELECT b.chunk FROM work_unit_blockers AS b JOIN work_units AS w ON w.chunk = b.chunk " +
            "WHERE b.blocker = ? ORDER BY w.rowid",
        )
        .all(blocker) as { chunk: string }[]
    ).map((r) => r.chunk);
  }

  private writeBlockers(chunk: string, blockers: readonly string[]): void {
    this.db.query("DELETE FROM work_unit_blockers WHERE chunk = ?").run(chunk);
    this.insertBlockers(chunk, blockers);
  }

  private insertBlockers(chunk: string, blockers: readonly string[]): void {
    if (blockers.length === 0) return;
    const insert = this.db.query("INSERT INTO work_unit_blockers (chunk, blocker) VALUES (?, ?)");
    for (const blocker of blockers) insert.run(chunk, blocker);
  }

  private log(change: LogChange): void {
    this.db
      .query(
        "INSERT INTO status_log (chunk, old_status, new_status, old_phase, new_phase, reason, forced, timestamp) " +
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        change.chunk,
        change.oldStatus,
        change.newStatus,
        change.oldPhase,
        change.newPhase,
        change.reason,
        change.forced ? 1 : 0,
        change.timestamp,
      );
  }

  private toWorkUnit(row: UnitRow, blockers?: string[]): WorkUnit {
    return toWorkUnit(row, blockers ?? this.blockersOf(row.chunk));
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
