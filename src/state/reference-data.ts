// The code step of migration 0004: converting what the Python `ve orch` (the reference, which
// writes the same `.ve/orchestrator.db`) left in the tables into values this ve can answer
// with. Its timestamps carry microseconds and `+00:00` (or no offset at all), its statuses may
// be in another case or written as `WorkUnitStatus.READY`, its names need not follow the chunk
// rule. Nothing is dropped: a value that has to change is normalised, and what it was is
// written to the unit's history when the change is more than a change of notation.
import type { Database } from "bun:sqlite";
import { CHUNK_NAME_MAX_LENGTH, PHASES, type Phase, STATUSES, type Status, isValidChunkName } from "../domain.ts";
import { WORKTREE_MAX_LENGTH } from "../domain.ts";

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ISO_LIKE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;
/** Below this, an epoch number counts seconds (Python's time.time()); from it on, milliseconds. */
const EPOCH_MS_FROM = 1e11;

/** What the step reports: one sentence per conversion a person should know about. */
export type Notes = string[];

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return String(value);
}

/** A timestamp in any shape the reference writes, as ISO-8601 UTC with milliseconds; null if it is none. */
export function normalizeTimestamp(value: unknown): string | null {
  if (typeof value === "string" && CANONICAL.test(value)) return value;
  if (typeof value === "number" || typeof value === "bigint") {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) return null;
    const date = new Date(n < EPOCH_MS_FROM ? Math.floor(n * 1000) : Math.floor(n));
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
  }
  const raw = text(value)?.trim();
  if (!raw) return null;
  if (/^\d+(\.\d+)?$/.test(raw)) return normalizeTimestamp(Number(raw));
  const m = ISO_LIKE.exec(raw);
  if (!m) return null;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", , sign, oh = "0", om = "0"] = m;
  const ms = Number(fraction.slice(0, 3).padEnd(3, "0"));
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const check = new Date(local);
  // Date.UTC rolls 2026-02-31 over into March: such a value is not a date.
  if (
    Number.isNaN(local) ||
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    Number(oh) > 23 ||
    Number(om) > 59
  ) {
    return null;
  }
  // No offset: taken as UTC, the zone every other value the reference writes is in.
  const offsetMs = sign ? (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000 : 0;
  return new Date(local - offsetMs).toISOString();
}

/** `ready`, ` Ready `, `WorkUnitStatus.READY`, `needs attention` -> the value of `allowed`, or null. */
function normalizeEnum<T extends string>(value: unknown, allowed: readonly T[]): T | null {
  const raw = text(value);
  if (raw === null) return null;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  const word = raw.trim().replace(/^.*\./, "").trim().toUpperCase().replace(/[\s-]+/g, "_");
  return (allowed as readonly string[]).includes(word) ? (word as T) : null;
}

export const normalizeStatus = (value: unknown): Status | null => normalizeEnum(value, STATUSES);
export const normalizePhase = (value: unknown): Phase | null => normalizeEnum(value, PHASES);

/** The closest valid chunk name to `name`, before making it unique. */
function chunkNameFrom(name: string): string {
  let candidate = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, CHUNK_NAME_MAX_LENGTH)
    .replace(/\.+$/, "");
  if (candidate.endsWith(".lock")) candidate = `${candidate.slice(0, -".lock".length)}-lock`;
  return isValidChunkName(candidate) ? candidate : "unit";
}

/** `base`, or `base-2`, `base-3`, ... : the first that no other name takes, in any case. */
function uniqueName(base: string, taken: Set<string>): string {
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? "" : `-${n}`;
    const name = `${base.slice(0, CHUNK_NAME_MAX_LENGTH - suffix.length).replace(/\.+$/, "")}${suffix}`;
    if (isValidChunkName(name) && !taken.has(name.toLowerCase())) {
      taken.add(name.toLowerCase());
      return name;
    }
  }
}

function quoted(value: unknown): string {
  return value === null || value === undefined ? "NULL" : `'${text(value)}'`;
}

function columnsOf(db: Database, table: string): Set<string> {
  return new Set((db.query(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
}

interface UnitRow {
  rowid: number;
  chunk: unknown;
  phase: unknown;
  status: unknown;
  worktree: unknown;
  created_at: unknown;
  updated_at: unknown;
  status_changed_at?: unknown;
}

interface LogRow {
  id: number;
  chunk: unknown;
  old_status: unknown;
  new_status: unknown;
  old_phase: unknown;
  new_phase: unknown;
  reason: unknown;
  timestamp: unknown;
}

/**
 * Converts the three tables in place; runs inside the migration's transaction. `now` is the
 * migration's own timestamp, used where a row holds no time at all.
 */
export function convertReferenceData(db: Database, now: string): Notes {
  const notes: Notes = [];
  // A chunk is renamed in work_units and in the blocker rows that reference it: the foreign
  // key is checked at commit, once both sides agree again.
  db.run("PRAGMA defer_foreign_keys = ON");
  const unitColumns = columnsOf(db, "work_units");
  const hasStatusChangedAt = unitColumns.has("status_changed_at");
  /** History rows to add once names are final: [rowid of the unit, reason]. */
  const history: [number, string][] = [];

  // --- names -----------------------------------------------------------------------------
  const units = db.query(`SELECT rowid, * FROM work_units ORDER BY rowid`).all() as UnitRow[];
  const names = new Set<string | null>();
  for (const u of units) names.add(text(u.chunk));
  for (const r of db.query("SELECT chunk, blocker FROM work_unit_blockers").all() as { chunk: unknown; blocker: unknown }[]) {
    names.add(text(r.chunk));
    names.add(text(r.blocker));
  }
  for (const r of db.query("SELECT DISTINCT chunk FROM status_log").all() as { chunk: unknown }[]) names.add(text(r.chunk));
  const taken = new Set([...names].filter((n): n is string => n !== null && isValidChunkName(n)).map((n) => n.toLowerCase()));
  const renamed = new Map<string | null, string>();
  // In creation order, so `a b` and `a/b` get `a-b` and `a-b-2` the same way every time.
  const ordered = [...units.map((u) => text(u.chunk)), ...names];
  for (const name of ordered) {
    if (renamed.has(name) || (name !== null && isValidChunkName(name))) continue;
    renamed.set(name, uniqueName(chunkNameFrom(name ?? ""), taken));
  }
  const unitNames = new Set(units.map((u) => text(u.chunk)));
  for (const [from, to] of renamed) {
    db.query("UPDATE work_units SET chunk = ? WHERE chunk IS ?").run(to, from);
    db.query("UPDATE work_unit_blockers SET chunk = ? WHERE chunk IS ?").run(to, from);
    db.query("UPDATE work_unit_blockers SET blocker = ? WHERE blocker IS ?").run(to, from);
    db.query("UPDATE status_log SET chunk = ? WHERE chunk IS ?").run(to, from);
    const why = `${quoted(from)} is not a valid chunk name`;
    if (unitNames.has(from)) {
      const unit = units.find((u) => text(u.chunk) === from) as UnitRow;
      history.push([unit.rowid, `schema upgrade: renamed from ${quoted(from)} (${why})`]);
      notes.push(`work unit ${quoted(from)} was renamed to '${to}' (${why}); its history records the old name`);
    } else {
      notes.push(`the blocker name ${quoted(from)} was renamed to '${to}' wherever it is used (${why})`);
    }
  }

  // --- units: statuses, phases, worktrees, timestamps ------------------------------------
  for (const u of db.query(`SELECT rowid, * FROM work_units ORDER BY rowid`).all() as UnitRow[]) {
    const chunk = text(u.chunk) as string;
    const status = normalizeStatus(u.status);
    const phase = normalizePhase(u.phase);
    const changes: string[] = [];
    if (status === null) changes.push(`status ${quoted(u.status)} is not a ve status: set to NEEDS_ATTENTION`);
    if (phase === null) changes.push(`phase ${quoted(u.phase)} is not a ve phase: set to GOAL`);
    let worktree = text(u.worktree);
    if (worktree !== null && worktree.trim() === "") worktree = null;
    if (worktree !== null && (worktree.length > WORKTREE_MAX_LENGTH || !worktree.isWellFormed())) {
      changes.push(`worktree ${quoted(worktree)} is not a usable path: cleared`);
      worktree = null;
    }
    const updated = normalizeTimestamp(u.updated_at);
    const created = normalizeTimestamp(u.created_at) ?? updated ?? now;
    if (normalizeTimestamp(u.created_at) === null) changes.push(`created_at ${quoted(u.created_at)} is not a time: set to ${created}`);
    if (updated === null) changes.push(`updated_at ${quoted(u.updated_at)} is not a time: set to ${created}`);
    const values: unknown[] = [status ?? "NEEDS_ATTENTION", phase ?? "GOAL", worktree, created, updated ?? created];
    let sql = "UPDATE work_units SET status = ?, phase = ?, worktree = ?, created_at = ?, updated_at = ?";
    if (hasStatusChangedAt) {
      sql += ", status_changed_at = ?";
      values.push(normalizeTimestamp(u.status_changed_at) ?? updated ?? created);
    }
    db.query(`${sql} WHERE rowid = ?`).run(...(values as string[]), u.rowid);
    for (const change of changes) history.push([u.rowid, `schema upgrade: ${change}`]);
    if (changes.length > 0) notes.push(`work unit '${chunk}': ${changes.join("; ")}`);
  }

  // --- the status log --------------------------------------------------------------------
  const fixLog = db.query(
    "UPDATE status_log SET old_status = ?, new_status = ?, old_phase = ?, new_phase = ?, reason = ?, timestamp = ? WHERE id = ?",
  );
  const previous = new Map<string, string>();
  for (const row of db.query("SELECT * FROM status_log ORDER BY id").all() as LogRow[]) {
    const chunk = text(row.chunk) ?? "";
    const kept: string[] = [];
    const oldStatus = row.old_status === null ? null : normalizeStatus(row.old_status);
    const newStatus = normalizeStatus(row.new_status);
    const oldPhase = row.old_phase === null ? null : normalizePhase(row.old_phase);
    const newPhase = row.new_phase === null ? null : normalizePhase(row.new_phase);
    if (row.old_status !== null && oldStatus === null) kept.push(`old status was ${quoted(row.old_status)}`);
    if (newStatus === null) kept.push(`new status was ${quoted(row.new_status)}`);
    if (row.old_phase !== null && oldPhase === null) kept.push(`old phase was ${quoted(row.old_phase)}`);
    if (row.new_phase !== null && newPhase === null) kept.push(`new phase was ${quoted(row.new_phase)}`);
    let timestamp = normalizeTimestamp(row.timestamp);
    if (timestamp === null) {
      kept.push(`time was ${quoted(row.timestamp)}`);
      timestamp = previous.get(chunk) ?? now;
    }
    previous.set(chunk, timestamp);
    let reason = text(row.reason);
    if (kept.length > 0) reason = `${reason ? `${reason}; ` : ""}schema upgrade: ${kept.join(", ")}`;
    fixLog.run(oldStatus, newStatus ?? "NEEDS_ATTENTION", oldPhase, newPhase, reason, timestamp, row.id);
  }

  // --- rules that hold for every unit ----------------------------------------------------
  db.run("DELETE FROM work_unit_blockers WHERE blocker = chunk");
  const waiting = db
    .query(
      "SELECT w.rowid AS rowid, w.chunk AS chunk, w.status AS status FROM work_units AS w " +
        "WHERE w.status IN ('READY', 'RUNNING') AND EXISTS (SELECT 1 FROM work_unit_blockers AS b " +
        "LEFT JOIN work_units AS d ON d.chunk = b.blocker WHERE b.chunk = w.chunk AND d.status IS NOT 'DONE') ORDER BY w.rowid",
    )
    .all() as { rowid: number; chunk: string; status: Status }[];
  for (const unit of waiting) {
    db.query("UPDATE work_units SET status = 'BLOCKED', updated_at = ? WHERE rowid = ?").run(now, unit.rowid);
    if (hasStatusChangedAt) db.query("UPDATE work_units SET status_changed_at = ? WHERE rowid = ?").run(now, unit.rowid);
    db.query(
      "INSERT INTO status_log (chunk, old_status, new_status, old_phase, new_phase, reason, forced, timestamp) " +
        "SELECT chunk, ?, 'BLOCKED', phase, phase, 'schema upgrade: waits on unfinished blockers', 0, ? FROM work_units WHERE rowid = ?",
    ).run(unit.status, now, unit.rowid);
  }

  const record = db.query(
    "INSERT INTO status_log (chunk, old_status, new_status, old_phase, new_phase, reason, forced, timestamp) " +
      "SELECT chunk, status, status, phase, phase, ?, 0, ? FROM work_units WHERE rowid = ?",
  );
  for (const [rowid, reason] of history) record.run(reason, now, rowid);
  return notes;
}
