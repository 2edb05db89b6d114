// The units group: work units, their dependencies, their status log and the tombstones of
// deleted ones. A change reads the facts it depends on, asks the rules in domain.ts what the
// change is, and writes it together with its status-log rows in the state's transaction, so a
// reader never sees a change without its log entry and two processes never interleave a
// read-modify-write; the change feed hears of it once that transaction commits.
import {
  type ChangeRequest,
  type Phase,
  type Refusal,
  STATUSES,
  type Schedulable,
  type Status,
  claimOrder,
  decideCreate,
  decideUpdate,
  explainRefusal,
  followBlockers,
  quoteList,
} from "../domain.ts";
import { VeError } from "../errors.ts";
import {
  type Attention,
  type ChangeableField,
  ChunkName,
  ClaimWorkUnit,
  CreateWorkUnit,
  type StatusCounts,
  type StatusLogEntry,
  UpdateWorkUnit,
  type WorkUnit,
  type WorkUnitChange,
  type WorkUnitChanged,
  WorkUnitFilter,
} from "../models/index.ts";
import { compileValidator } from "../validation.ts";
import type { StateContext } from "./context.ts";

const checkChunk = compileValidator(ChunkName, "chunk");
const checkCreate = compileValidator(CreateWorkUnit, "body");
const checkUpdate = compileValidator(UpdateWorkUnit, "body");
const checkClaim = compileValidator(ClaimWorkUnit, "body");
const checkFilter = compileValidator(WorkUnitFilter, "query");

interface UnitRow {
  chunk: string;
  phase: Phase;
  status: Status;
  worktree: string | null;
  created_at: string;
  updated_at: string;
  status_changed_at: string;
  /** 1: the scheduler runs this unit (`ve orch inject`); 0: only tracked. */
  scheduled: number;
  priority: number;
  base_branch: string | null;
  /** From the unit's engine row: null for a tracked unit and before the branch is made. */
  branch_base_commit: string | null;
  /** The unit's attention record as JSON, or null. */
  attention: string | null;
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
  actor: string | null;
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
  actor?: string | undefined;
  timestamp: string;
}

/** A declared dependency and the status of its blocker (null: no such unit). */
type Edge = readonly [blocker: string, status: Status | null];

/** What makes a unit one the scheduler runs. */
export interface Schedule {
  priority: number;
  base_branch: string;
}

export interface DeleteOptions {
  force?: boolean;
}

const UNIT_COLUMNS =
  "chunk, phase, status, worktree, created_at, updated_at, status_changed_at, scheduled, priority, base_branch";
// Databases written before status_changed_at existed got it from their log in 0003; the
// fallback only covers a row some other program inserted without it.
/** Every column of a unit row as UnitRow reads it, for a table aliased `w`. */
const UNIT_ROW_COLUMNS =
  "w.chunk, w.phase, w.status, w.worktree, w.created_at, w.updated_at, " +
  "coalesce(w.status_changed_at, w.updated_at) AS status_changed_at, w.scheduled, w.priority, w.base_branch, " +
  "(SELECT e.branch_base_commit FROM unit_engine AS e WHERE e.chunk = w.chunk) AS branch_base_commit, " +
  "(SELECT json_object('kind', a.kind, 'reason', a.reason, 'question', a.question, 'options', json(a.options), " +
  "'since', a.since, 'run_id', a.run_id, 'code', a.code) FROM attention AS a WHERE a.chunk = w.chunk) AS attention";
const SELECT_UNIT = `SELECT ${UNIT_ROW_COLUMNS} FROM work_units AS w`;
/** The unit, its dependencies with their blockers' statuses, and its dependents: one snapshot. */
const UNIT_WITH_GRAPH =
  `SELECT ${UNIT_ROW_COLUMNS}, ` +
  "(SELECT json_group_array(json_array(e.blocker, e.status)) FROM (SELECT b.blocker, d.status " +
  "FROM work_unit_blockers AS b LEFT JOIN work_units AS d ON d.chunk = b.blocker WHERE b.chunk = w.chunk ORDER BY b.id) AS e) AS edges, " +
  "(SELECT json_group_array(e.chunk) FROM (SELECT b.chunk FROM work_unit_blockers AS b " +
  "JOIN work_units AS d ON d.chunk = b.chunk WHERE b.blocker = w.chunk ORDER BY d.rowid) AS e) AS dependents " +
  "FROM work_units AS w WHERE w.chunk = ?";
/** Every dependency, grouped by unit in creation order, each unit's in the order given. */
const ALL_EDGES =
  "SELECT b.chunk, b.blocker, d.status FROM work_unit_blockers AS b JOIN work_units AS w ON w.chunk = b.chunk " +
  "LEFT JOIN work_units AS d ON d.chunk = b.blocker ORDER BY w.rowid, b.id";

function dedupe(names: readonly string[]): string[] {
  return [...new Set(names)];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Fields in the order of the design, which is the order JSON output shows them. */
function toWorkUnit(row: UnitRow, edges: readonly Edge[], dependents: string[]): WorkUnit {
  const depends_on: string[] = [];
  const blocked_by: string[] = [];
  const unknown_blockers: string[] = [];
  for (const [blocker, status] of edges) {
    depends_on.push(blocker);
    if (status !== "DONE") blocked_by.push(blocker);
    if (status === null) unknown_blockers.push(blocker);
  }
  return {
    chunk: row.chunk,
    phase: row.phase,
    status: row.status,
    depends_on,
    blocked_by,
    unknown_blockers,
    dependents,
    worktree: row.worktree,
    created_at: row.created_at,
    updated_at: row.updated_at,
    status_changed_at: row.status_changed_at,
    scheduled: row.scheduled !== 0,
    priority: row.priority,
    base_branch: row.base_branch,
    branch_base_commit: row.branch_base_commit,
    attention: row.attention === null ? null : attentionOf(row.attention),
  };
}

/** The attention record as the API shows it: absent optional fields left out, not null. */
function attentionOf(json: string): Attention {
  const raw = JSON.parse(json) as Attention & { question: string | null; options: string[] | null; code?: string | null };
  const { question, options, code, ...rest } = raw;
  return { ...rest, ...(question === null ? {} : { question }), ...(options === null ? {} : { options }), ...(code == null ? {} : { code }) };
}

function waitingOn(edges: readonly Edge[]): string[] {
  return edges.filter(([, status]) => status !== "DONE").map(([blocker]) => blocker);
}

/** The refusal of a rule as the error a caller sees. */
function refused(chunk: string, refusal: Refusal, extra = ""): VeError {
  const { code, ...details } = refusal;
  return new VeError(code, `${explainRefusal(chunk, refusal)}${extra}`, { chunk, ...details });
}

/** A person's change or delete of a scheduled unit ends its open run first (runs.ts). */
export type EndOpenRun = (chunk: string, force: boolean, why: string) => void;

export class Units {
  constructor(
    private readonly ctx: StateContext,
    private readonly endOpenRun: EndOpenRun,
  ) {}

  private get db() {
    return this.ctx.db;
  }

  private write<T>(change: () => T): T {
    return this.ctx.write(change);
  }

  private read<T>(query: () => T): T {
    return this.ctx.read(query);
  }

  private record(change: WorkUnitChange): void {
    this.ctx.record(change);
  }

  private timestamp(after?: string, floor?: string): string {
    return this.ctx.timestamp(after, floor);
  }

  // --- reads -------------------------------------------------------------------------------

  /** One statement, so the unit and its graph are one snapshot whoever else writes. */
  get(chunk: string): WorkUnit {
    const name = checkChunk(chunk);
    const unit = this.read(() => this.readUnit(name));
    if (!unit) throw this.notFound(name);
    return unit;
  }

  list(filter: WorkUnitFilter = {}): WorkUnit[] {
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
    const sql = `${SELECT_UNIT}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY w.rowid`;
    return this.read(() => this.db
      .transaction(() => {
        const rows = this.db.query(sql).all(...params) as UnitRow[];
        const edges = new Map<string, Edge[]>();
        const dependents = new Map<string, string[]>();
        const all = this.db.query(ALL_EDGES).all() as { chunk: string; blocker: string; status: Status | null }[];
        for (const { chunk, blocker, status: blockerStatus } of all) {
          const own = edges.get(chunk);
          if (own) own.push([blocker, blockerStatus]);
          else edges.set(chunk, [[blocker, blockerStatus]]);
          const waiters = dependents.get(blocker);
          if (waiters) waiters.push(chunk);
          else dependents.set(blocker, [chunk]);
        }
        return rows.map((row) => toWorkUnit(row, edges.get(row.chunk) ?? [], dependents.get(row.chunk) ?? []));
      })
      .deferred());
  }

  countsByStatus(): StatusCounts {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as StatusCounts;
    const rows = this.read(() => this.db.query("SELECT status, count(*) AS n FROM work_units GROUP BY status").all()) as {
      status: Status;
      n: number;
    }[];
    for (const { status, n } of rows) counts[status] = n;
    return counts;
  }

  history(chunk: string): StatusLogEntry[] {
    const name = checkChunk(chunk);
    return this.read(() => this.db
      .transaction(() => {
        this.requireRow(name);
        const rows = this.db
          .query(
            "SELECT id, chunk, old_status, new_status, old_phase, new_phase, reason, forced, actor, timestamp " +
              "FROM status_log WHERE chunk = ? ORDER BY id",
          )
          .all(name) as LogRow[];
        return rows.map((row) => ({ ...row, forced: row.forced !== 0 }));
      })
      .deferred());
  }

  // --- writes ------------------------------------------------------------------------------

  /**
   * Creates a unit; with `schedule` it is one the scheduler runs (`ve orch inject`), else one
   * that is only tracked.
   */
  create(input: CreateWorkUnit, schedule?: Schedule): WorkUnit {
    const body = checkCreate(input);
    const chunk = body.chunk;
    return this.write(() => {
      this.assertNameFree(chunk);
      const edges = this.edgesTo(this.admitDependencies(chunk, body.blocked_by ?? []));
      const decided = decideCreate(body.status, waitingOn(edges));
      if (!decided.ok) throw refused(chunk, decided.refusal);
      const { status } = decided;
      const phase = body.phase ?? "GOAL";
      const timestamp = this.timestamp(this.takeTombstone(chunk));
      const row: UnitRow = {
        chunk,
        phase,
        status,
        worktree: body.worktree ?? null,
        created_at: timestamp,
        updated_at: timestamp,
        status_changed_at: timestamp,
        scheduled: schedule ? 1 : 0,
        priority: schedule?.priority ?? 0,
        base_branch: schedule?.base_branch ?? null,
        branch_base_commit: null,
        attention: null,
      };
      this.db
        .query(`INSERT INTO work_units (${UNIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(chunk, phase, status, row.worktree, timestamp, timestamp, timestamp, row.scheduled, row.priority, row.base_branch);
      this.insertDependencies(chunk, edges.map(([blocker]) => blocker));
      const reason = `${decided.reason}${this.unknownNote(edges)}`;
      this.log({ chunk, oldStatus: null, newStatus: status, oldPhase: null, newPhase: phase, reason, forced: false, timestamp });
      this.record({
        kind: "created",
        chunk,
        old_status: null,
        new_status: status,
        old_phase: null,
        new_phase: phase,
        reason,
        timestamp,
      });
      // Units may already name this one: as an unknown blocker it counted as unfinished.
      if (status === "DONE") this.followDependents(this.dependentsOf(chunk), `'${chunk}' is DONE`, timestamp);
      return toWorkUnit(row, edges, this.dependentsOf(chunk).map((d) => d.chunk));
    });
  }

  /** Applies a change; the answer says what the unit was before it and what it changed. */
  update(chunk: string, input: UpdateWorkUnit): WorkUnitChanged {
    const name = checkChunk(chunk);
    const patch = checkUpdate(input);
    return this.write(() => this.change(name, patch));
  }

  /**
   * Takes the next READY unit in the order work is taken (domain.ts `claimOrder`), optionally
   * only in one phase, and makes it RUNNING, in one transaction: of several claimers, each
   * unit goes to exactly one. Refused with `nothing_to_claim` when no unit is READY.
   */
  claim(input: ClaimWorkUnit = {}): WorkUnitChanged {
    const body = checkClaim(input);
    return this.write(() => {
      const rows = this.db.query(`${SELECT_UNIT} WHERE w.scheduled = 0 ORDER BY w.rowid`).all() as UnitRow[];
      const waiting = new Map<string, string[]>();
      for (const { chunk, blocker, status } of this.db.query(ALL_EDGES).all() as {
        chunk: string;
        blocker: string;
        status: Status | null;
      }[]) {
        if (status === "DONE") continue;
        const list = waiting.get(chunk);
        if (list) list.push(blocker);
        else waiting.set(chunk, [blocker]);
      }
      const phases = new Map(rows.map((r) => [r.chunk, r.phase]));
      const units: Schedulable[] = rows.map((r) => ({
        chunk: r.chunk,
        status: r.status,
        blocked_by: waiting.get(r.chunk) ?? [],
        created_at: r.created_at,
      }));
      const next = claimOrder(units).find((u) => body.phase === undefined || phases.get(u.chunk) === body.phase);
      if (!next) throw this.nothingToClaim(body.phase);
      const reason = `claimed${body.actor === undefined ? "" : ` by ${body.actor}`}`;
      return this.change(next.chunk, { status: "RUNNING", expected_status: "READY", actor: body.actor }, reason);
    });
  }

  /**
   * The engine's own change of a scheduled unit (claiming it for a run, moving it on after
   * one), inside the caller's transaction when there is one. It is not refused for a running
   * unit: the engine is what runs it. Never reachable through the API.
   */
  engineChange(chunk: string, patch: ChangeRequest & { worktree?: string | null }, reason: string): WorkUnitChanged {
    return this.write(() => this.change(chunk, patch, reason, "engine"));
  }

  /** A history row and a change-feed entry for an engine step that changed no column. */
  private noteUnchanged(row: UnitRow, reason: string): void {
    const timestamp = this.timestamp(row.updated_at);
    this.db.query("UPDATE work_units SET updated_at = ? WHERE chunk = ?").run(timestamp, row.chunk);
    this.log({ chunk: row.chunk, oldStatus: row.status, newStatus: row.status, oldPhase: row.phase, newPhase: row.phase, reason, forced: false, timestamp });
    this.record({ kind: "changed", chunk: row.chunk, old_status: row.status, new_status: row.status, old_phase: row.phase, new_phase: row.phase, reason, timestamp });
  }

  /**
   * A person's change to a unit the scheduler runs: it cannot be made RUNNING by hand (the
   * scheduler starts it), and while its agent runs, a change of status or phase is refused
   * unless forced; forcing it ends the run first (`interrupted`), in the same transaction, and
   * the engine, hearing of the change, stops the agent.
   */
  private guardScheduled(name: string, current: UnitRow, patch: ChangeRequest & { force?: boolean }): void {
    if (patch.status === "RUNNING" && current.status !== "RUNNING") {
      throw new VeError(
        "scheduled_unit",
        `Work unit '${name}' is run by the scheduler, which starts it when it is READY; it cannot be set RUNNING by hand.`,
        { chunk: name },
      );
    }
    const touches =
      (patch.status !== undefined && patch.status !== current.status) || (patch.phase !== undefined && patch.phase !== current.phase);
    if (touches) this.endOpenRun(name, patch.force === true, "a forced change by a person");
  }

  delete(chunk: string, options: DeleteOptions = {}): void {
    const name = checkChunk(chunk);
    this.write(() => {
      const row = this.requireRow(name);
      if (row.scheduled !== 0) this.endOpenRun(name, options.force === true, "a forced delete");
      const dependents = this.dependentsOf(name);
      // A DONE unit is waited on by nobody; deleting it only drops it from their depends_on.
      if (dependents.length > 0 && row.status !== "DONE" && !options.force) {
        const names = dependents.map((d) => d.chunk);
        throw new VeError(
          "has_dependents",
          `Work unit '${name}' is a blocker of ${quoteList(names)}; finish it, remove it from their blocked_by, or delete with force to release them.`,
          { chunk: name, dependents: names },
        );
      }
      this.leaveTombstone(name);
      const timestamp = this.timestamp();
      this.db.query("DELETE FROM work_unit_blockers WHERE blocker = ?").run(name);
      this.followDependents(dependents, `'${name}' was deleted`, timestamp);
      this.db.query("DELETE FROM work_units WHERE chunk = ?").run(name);
      this.db.query("DELETE FROM status_log WHERE chunk = ?").run(name);
      this.record({
        kind: "deleted",
        chunk: name,
        old_status: row.status,
        new_status: null,
        old_phase: row.phase,
        new_phase: null,
        reason: options.force && dependents.length > 0 ? "deleted (forced)" : "deleted",
        timestamp,
      });
    });
  }

  // --- rules -------------------------------------------------------------------------------

  /** The change of one unit inside the caller's transaction; `reason` overrides the rules' own. */
  private change(
    name: string,
    patch: ChangeRequest & { blocked_by?: readonly string[]; worktree?: string | null; actor?: string | undefined },
    reasonOverride?: string,
    by: "person" | "engine" = "person",
  ): WorkUnitChanged {
    const current = this.requireRow(name);
    if (by === "person" && current.scheduled !== 0) this.guardScheduled(name, current, patch);
    const currentEdges = this.edgesOf(name);
    const currentNames = currentEdges.map(([blocker]) => blocker);
    const requested = patch.blocked_by === undefined ? currentNames : this.admitDependencies(name, patch.blocked_by);
    const dependenciesChanged = !sameList(requested, currentNames);
    const edges = dependenciesChanged ? this.edgesTo(requested) : currentEdges;
    const decision = decideUpdate(patch, {
      current,
      waitedOn: waitingOn(currentEdges),
      waitingOn: waitingOn(edges),
      dependenciesChanged,
    });
    if (!decision.ok) {
      throw refused(name, decision.refusal, decision.refusal.code === "status_mismatch" ? this.lastStatusChange(name) : "");
    }
    const { status, phase, forced, statusChanged, phaseChanged } = decision.change;
    const reason = reasonOverride ?? decision.change.reason;
    const worktree = patch.worktree === undefined ? current.worktree : patch.worktree;
    const changed: ChangeableField[] = [];
    if (statusChanged) changed.push("status");
    if (phaseChanged) changed.push("phase");
    if (dependenciesChanged) changed.push("depends_on");
    if (worktree !== current.worktree) changed.push("worktree");
    const previous = { status: current.status, phase: current.phase, updated_at: current.updated_at };
    if (changed.length === 0) {
      // The engine moved the unit on in its own state (a landing that sends it back to its agent):
      // that is history too, and the scheduler must hear of it.
      if (by === "engine" && reasonOverride !== undefined) this.noteUnchanged(current, reasonOverride);
      return { ...toWorkUnit(current, currentEdges, this.dependentNames(name)), previous, changed };
    }

    const timestamp = this.timestamp(current.updated_at);
    const statusChangedAt = statusChanged ? timestamp : current.status_changed_at;
    this.db
      .query("UPDATE work_units SET phase = ?, status = ?, worktree = ?, updated_at = ?, status_changed_at = ? WHERE chunk = ?")
      .run(phase, status, worktree, timestamp, statusChangedAt, name);
    const actor = patch.actor;
    if (dependenciesChanged) this.writeDependencies(name, requested);
    // A change of dependencies is in the history: in the reason of the status or phase change
    // it caused, or as a row of its own when it changed neither.
    const dependencyNote = dependenciesChanged
      ? `${this.describeDependencyChange(currentNames, requested)}${this.unknownNote(edges)}`
      : "";
    if (statusChanged || phaseChanged || dependenciesChanged) {
      const why = statusChanged || phaseChanged ? reason : "";
      this.log({
        chunk: name,
        oldStatus: current.status,
        newStatus: status,
        oldPhase: current.phase,
        newPhase: phase,
        reason: [why, dependencyNote].filter((part) => part !== "").join("; "),
        forced,
        actor,
        timestamp,
      });
    }
    this.record({
      kind: "changed",
      chunk: name,
      old_status: current.status,
      new_status: status,
      old_phase: current.phase,
      new_phase: phase,
      reason: statusChanged || phaseChanged ? reason : changed.join(", "),
      timestamp,
    });
    if (status === "DONE" && current.status !== "DONE") {
      this.followDependents(this.dependentsOf(name), `'${name}' is DONE`, timestamp);
    } else if (current.status === "DONE" && status !== "DONE") {
      this.followDependents(this.dependentsOf(name), `'${name}' was reopened`, timestamp);
    }
    const unit = this.readUnit(name) as WorkUnit;
    return { ...unit, previous, changed };
  }

  /**
   * The dependency list a unit may declare: duplicates collapsed, self-reference and cycles
   * refused. Cycles are looked for through every declared edge, DONE blockers included: a
   * DONE unit can be reopened, and a cycle would then wait forever.
   */
  private admitDependencies(chunk: string, requested: readonly string[]): string[] {
    const names = dedupe(requested);
    if (names.includes(chunk)) {
      throw new VeError("dependency_cycle", `Work unit '${chunk}' cannot be blocked by itself; remove it from blocked_by.`, {
        chunk,
        cycle: [chunk, chunk],
      });
    }
    const cycle = this.findPath(names, chunk);
    if (cycle) {
      const loop = [chunk, ...cycle];
      throw new VeError(
        "dependency_cycle",
        `Blocking '${chunk}' on '${cycle[0]}' would make a cycle (${loop.join(" -> ")}); remove one of these dependencies.`,
        { chunk, cycle: loop },
      );
    }
    return names;
  }

  /** A path of dependency edges from one of `starts` to `target`, or undefined. */
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

  /**
   * Their blocker finished, was reopened or was deleted: each of `dependents` follows (domain.ts
   * `followBlockers`), and the release or re-block is logged in its history. Every dependent
   * gets a new updated_at, since its blocked_by changed: a compare-and-set based on an older
   * read fails.
   */
  private followDependents(dependents: readonly UnitRow[], why: string, timestamp: string): void {
    for (const row of dependents) {
      const waits = waitingOn(this.edgesOf(row.chunk));
      const next = followBlockers(row.status, waits);
      const at = this.timestamp(row.updated_at, timestamp);
      const still = waits.length > 0 ? `; waits on ${quoteList(waits)}` : "";
      let reason: string;
      if (next !== row.status) {
        this.db
          .query("UPDATE work_units SET status = ?, updated_at = ?, status_changed_at = ? WHERE chunk = ?")
          .run(next, at, at, row.chunk);
        reason = `${next === "READY" ? "unblocked" : "blocked again"}: ${why}${still}`;
      } else {
        this.db.query("UPDATE work_units SET updated_at = ? WHERE chunk = ?").run(at, row.chunk);
        reason = `${why}${still}`;
      }
      // A finished unit's history is not about its blockers any more.
      if (next !== row.status || row.status !== "DONE") {
        this.log({
          chunk: row.chunk,
          oldStatus: row.status,
          newStatus: next,
          oldPhase: row.phase,
          newPhase: row.phase,
          reason,
          forced: false,
          timestamp: at,
        });
      }
      this.record({
        kind: "changed",
        chunk: row.chunk,
        old_status: row.status,
        new_status: next,
        old_phase: row.phase,
        new_phase: row.phase,
        reason,
        timestamp: at,
      });
    }
  }

  /** Refuses a name that exists already, also when only the case differs. */
  private assertNameFree(chunk: string): void {
    const existing = this.db.query("SELECT chunk FROM work_units WHERE chunk = ? COLLATE NOCASE LIMIT 1").get(chunk) as {
      chunk: string;
    } | null;
    if (!existing) return;
    if (existing.chunk === chunk) {
      throw new VeError("already_exists", `Work unit '${chunk}' already exists; update it instead, or delete it first.`, {
        chunk,
      });
    }
    throw new VeError(
      "already_exists",
      `Work unit '${chunk}' differs from the existing '${existing.chunk}' only in case; the two would collide as ` +
        "directories and branches on case-insensitive file systems, so choose another name.",
      { chunk, existing: existing.chunk },
    );
  }

  private notFound(chunk: string): VeError {
    const similar = this.db.query("SELECT chunk FROM work_units WHERE chunk = ? COLLATE NOCASE LIMIT 1").get(chunk) as {
      chunk: string;
    } | null;
    const hint = similar ? ` (did you mean '${similar.chunk}'?)` : "; `ve orch ps` lists the existing ones";
    return new VeError("not_found", `No work unit named '${chunk}'${hint}.`, {
      chunk,
      ...(similar ? { similar: similar.chunk } : {}),
    });
  }

  private nothingToClaim(phase: Phase | undefined): VeError {
    const where = phase === undefined ? "" : ` in phase ${phase}`;
    const last = this.db
      .query(
        "SELECT chunk, actor, timestamp FROM status_log WHERE old_status = 'READY' AND new_status = 'RUNNING' ORDER BY id DESC LIMIT 1",
      )
      .get() as { chunk: string; actor: string | null; timestamp: string } | null;
    const won = last
      ? `; the last unit taken was '${last.chunk}'${last.actor ? ` by ${last.actor}` : ""} at ${last.timestamp}`
      : "";
    return new VeError("nothing_to_claim", `No READY work unit to claim${where}${won}.`, {
      ...(phase === undefined ? {} : { phase }),
      ...(last ? { last_claim: last } : {}),
    });
  }

  /** " It became RUNNING at T (by X)." for a conditional change that lost. */
  private lastStatusChange(chunk: string): string {
    const last = this.db
      .query(
        "SELECT new_status, actor, timestamp FROM status_log WHERE chunk = ? AND (old_status IS NULL OR old_status <> new_status) ORDER BY id DESC LIMIT 1",
      )
      .get(chunk) as { new_status: Status; actor: string | null; timestamp: string } | null;
    if (!last) return "";
    return ` It became ${last.new_status} at ${last.timestamp}${last.actor ? ` (by ${last.actor})` : ""}.`;
  }

  /** ", 'x' is not a known unit" for the log, so a typo is visible in the history. */
  private unknownNote(edges: readonly Edge[]): string {
    const unknown = edges.filter(([, status]) => status === null).map(([blocker]) => blocker);
    if (unknown.length === 0) return "";
    return `; ${quoteList(unknown)} ${unknown.length === 1 ? "is not a known unit" : "are not known units"}`;
  }

  private describeDependencyChange(before: readonly string[], after: readonly string[]): string {
    const added = after.filter((n) => !before.includes(n));
    const removed = before.filter((n) => !after.includes(n));
    const parts: string[] = [];
    if (added.length > 0) parts.push(`added ${quoteList(added)}`);
    if (removed.length > 0) parts.push(`removed ${quoteList(removed)}`);
    if (parts.length === 0) parts.push(`reordered to ${quoteList(after)}`);
    return `dependencies changed: ${parts.join(", ")}`;
  }

  // --- rows --------------------------------------------------------------------------------

  /**
   * A deleted unit's last compare-and-set token is kept, so that a unit created later under
   * its name starts after it (see sql/0004): a write based on the old unit can never match.
   */
  private leaveTombstone(chunk: string): void {
    this.db
      .query(
        "INSERT INTO work_unit_tombstones (chunk, last_updated_at) SELECT chunk, updated_at FROM work_units WHERE chunk = ? " +
          "ON CONFLICT (chunk) DO UPDATE SET last_updated_at = max(last_updated_at, excluded.last_updated_at)",
      )
      .run(chunk);
  }

  /** The last token of an earlier unit of this name, if any; the new unit's tokens outgrow it, so the row goes. */
  private takeTombstone(chunk: string): string | undefined {
    const row = this.db.query("DELETE FROM work_unit_tombstones WHERE chunk = ? RETURNING last_updated_at").get(chunk) as
      | { last_updated_at: string }
      | null;
    return row?.last_updated_at;
  }

  private readUnit(chunk: string): WorkUnit | undefined {
    const row = this.db.query(UNIT_WITH_GRAPH).get(chunk) as (UnitRow & { edges: string; dependents: string }) | null;
    if (!row) return undefined;
    return toWorkUnit(row, JSON.parse(row.edges) as Edge[], JSON.parse(row.dependents) as string[]);
  }

  private findRow(chunk: string): UnitRow | undefined {
    return (this.db.query(`${SELECT_UNIT} WHERE w.chunk = ?`).get(chunk) ?? undefined) as UnitRow | undefined;
  }

  private requireRow(chunk: string): UnitRow {
    const row = this.findRow(chunk);
    if (!row) throw this.notFound(chunk);
    return row;
  }

  /** A unit's declared dependencies with their blockers' statuses, in the order given. */
  private edgesOf(chunk: string): Edge[] {
    return (
      this.db
        .query(
          "SELECT b.blocker, d.status FROM work_unit_blockers AS b LEFT JOIN work_units AS d ON d.chunk = b.blocker " +
            "WHERE b.chunk = ? ORDER BY b.id",
        )
        .all(chunk) as { blocker: string; status: Status | null }[]
    ).map((r) => [r.blocker, r.status] as const);
  }

  /** `names` with their statuses (null: no such unit). */
  private edgesTo(names: readonly string[]): Edge[] {
    const statusOf = this.db.query("SELECT status FROM work_units WHERE chunk = ?");
    return names.map((name) => [name, ((statusOf.get(name) as { status: Status } | null)?.status ?? null) as Status | null]);
  }

  /** The units whose dependencies name `blocker`, in creation order. */
  private dependentsOf(blocker: string): UnitRow[] {
    return this.db
      .query(
        `SELECT ${UNIT_ROW_COLUMNS} FROM work_unit_blockers AS b JOIN work_units AS w ON w.chunk = b.chunk ` +
          "WHERE b.blocker = ? ORDER BY w.rowid",
      )
      .all(blocker) as UnitRow[];
  }

  private dependentNames(blocker: string): string[] {
    return this.dependentsOf(blocker).map((r) => r.chunk);
  }

  private writeDependencies(chunk: string, blockers: readonly string[]): void {
    this.db.query("DELETE FROM work_unit_blockers WHERE chunk = ?").run(chunk);
    this.insertDependencies(chunk, blockers);
  }

  private insertDependencies(chunk: string, blockers: readonly string[]): void {
    if (blockers.length === 0) return;
    const insert = this.db.query("INSERT INTO work_unit_blockers (chunk, blocker) VALUES (?, ?)");
    for (const blocker of blockers) insert.run(chunk, blocker);
  }

  private log(change: LogChange): void {
    this.db
      .query(
        "INSERT INTO status_log (chunk, old_status, new_status, old_phase, new_phase, reason, forced, actor, timestamp) " +
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        change.chunk,
        change.oldStatus,
        change.newStatus,
        change.oldPhase,
        change.newPhase,
        change.reason,
        change.forced ? 1 : 0,
        change.actor ?? null,
        change.timestamp,
      );
  }
}
