// Text for people: how work units, histories and the daemon's status look in a terminal.
import type { Status } from "../domain.ts";
import type { DaemonStatus, StatusLogEntry, WorkUnit } from "../models/index.ts";
import { type Color, age, duration, paint, table, truncate, useColor } from "./output.ts";

const STATUS_COLOR: Record<Status, Color> = {
  READY: "green",
  RUNNING: "cyan",
  BLOCKED: "yellow",
  NEEDS_ATTENTION: "magenta",
  DONE: "gray",
};

export function status(value: Status): string {
  return paint("stdout", STATUS_COLOR[value], value);
}

// FOR: how long the unit has been in its status (short, so the names keep the width).
const UNIT_HEADER = ["CHUNK", "PHASE", "STATUS", "BLOCKED BY", "FOR"] as const;
/** Below these, a column is not worth reading: the line overflows instead. */
const MIN_CHUNK_COLUMNS = 12;
const MIN_BLOCKED_COLUMNS = UNIT_HEADER[3].length;

/** When the unit's status last changed (a daemon before 0.2 only says when the unit last changed). */
export function statusSince(unit: WorkUnit): string {
  return (unit.status_changed_at as string | undefined) ?? unit.updated_at;
}

/**
 * The `ps` table, `width` columns wide at most (undefined: no limit). When it does not fit,
 * BLOCKED BY and then CHUNK are cut with an ellipsis; `--json` has every value in full.
 * Written as plain loops rather than through `table()`: it is the CLI's most frequent output,
 * and it runs before the JIT warms up, where every call and closure counts.
 */
export function unitTable(units: readonly WorkUnit[], now = Date.now(), width?: number): string {
  if (units.length === 0) return "No work units.";
  const blockers = new Array<string>(units.length);
  const ages = new Array<string>(units.length);
  let chunkWidth = UNIT_HEADER[0].length;
  let phaseWidth = UNIT_HEADER[1].length;
  let statusWidth = UNIT_HEADER[2].length;
  let blockedWidth = UNIT_HEADER[3].length;
  let ageWidth = UNIT_HEADER[4].length;
  for (let i = 0; i < units.length; i++) {
    const u = units[i] as WorkUnit;
    const b = u.blocked_by.length ? blockerList(u, ",") : "-";
    blockers[i] = b;
    const a = age(statusSince(u), now);
    ages[i] = a;
    if (u.chunk.length > chunkWidth) chunkWidth = u.chunk.length;
    if (u.phase.length > phaseWidth) phaseWidth = u.phase.length;
    if (u.status.length > statusWidth) statusWidth = u.status.length;
    if (b.length > blockedWidth) blockedWidth = b.length;
    if (a.length > ageWidth) ageWidth = a.length;
  }
  let fit = false;
  if (width !== undefined) {
    // Five columns, two spaces between each: the fixed ones keep their width.
    let over = chunkWidth + phaseWidth + statusWidth + blockedWidth + ageWidth + 8 - width;
    if (over > 0) {
      fit = true;
      const blockedCut = Math.min(over, Math.max(0, blockedWidth - MIN_BLOCKED_COLUMNS));
      blockedWidth -= blockedCut;
      over -= blockedCut;
      chunkWidth -= Math.min(over, Math.max(0, chunkWidth - MIN_CHUNK_COLUMNS));
    }
  }
  const color = useColor("stdout");
  const cells = (chunk: string, phase: string, state: string, paintedState: string, blocked: string, when: string) =>
    `${chunk.padEnd(chunkWidth)}  ${phase.padEnd(phaseWidth)}  ${paintedState}${" ".repeat(statusWidth - state.length)}  ${blocked.padEnd(blockedWidth)}  ${when}`;
  const [h0, h1, h2, h3, h4] = UNIT_HEADER;
  const header = cells(h0, h1, h2, h2, h3, h4);
  let out = color ? paint("stdout", "bold", header) : header;
  for (let i = 0; i < units.length; i++) {
    const u = units[i] as WorkUnit;
    const chunk = fit ? truncate(u.chunk, chunkWidth) : u.chunk;
    const blocked = fit ? truncate(blockers[i] as string, blockedWidth) : (blockers[i] as string);
    out += `\n${cells(chunk, u.phase, u.status, color ? status(u.status) : u.status, blocked, ages[i] as string)}`;
  }
  const note = unknownBlockersNote(units);
  return note ? `${out}\n${note}` : out;
}

/** The blockers with each name that is not a work unit marked `?` (a typo waits forever). */
function blockerList(unit: WorkUnit, separator: string): string {
  const unknown = unit.unknown_blockers ?? [];
  if (unknown.length === 0) return unit.blocked_by.join(separator);
  return unit.blocked_by.map((b) => (unknown.includes(b) ? `${b}?` : b)).join(separator);
}

/** "; 'zz' is not a known work unit", or nothing. */
function unknownNote(unit: WorkUnit): string {
  const unknown = unit.unknown_blockers ?? [];
  if (unknown.length === 0) return "";
  const names = unknown.map((n) => `'${n}'`).join(", ");
  return `; ${names} ${unknown.length === 1 ? "is not a known work unit" : "are not known work units"} (still waited on)`;
}

/** The line under the `ps` table that explains its `?` marks, or nothing. */
export function unknownBlockersNote(units: readonly WorkUnit[]): string {
  // Indexed loops and no Set until a name is found: every `ps` runs this over every unit
  // before the JIT warms up, and iterators made it cost 0.1 ms for 100 units.
  let unknown: Set<string> | undefined;
  for (let i = 0; i < units.length; i++) {
    const names = (units[i] as WorkUnit).unknown_blockers;
    if (names === undefined || names.length === 0) continue;
    unknown ??= new Set<string>();
    for (let j = 0; j < names.length; j++) unknown.add(names[j] as string);
  }
  return unknown === undefined ? "" : `? not a known work unit: ${[...unknown].join(", ")}`;
}

export function unitSummary(unit: WorkUnit): string {
  const blockers = unit.blocked_by.length ? `, blocked by ${unit.blocked_by.join(", ")}` : "";
  return `${unit.chunk}: ${status(unit.status)} (phase ${unit.phase}${blockers}${unknownNote(unit)})`;
}

export function unitDetail(unit: WorkUnit, history: readonly StatusLogEntry[]): string {
  const fields = table(
    ["FIELD", "VALUE"],
    [
      ["chunk", unit.chunk],
      ["phase", unit.phase],
      ["status", unit.status],
      ["depends on", unit.depends_on.join(", ") || "-"],
      ["blocked by", `${blockerList(unit, ", ") || "-"}${unknownNote(unit)}`],
      ["dependents", unit.dependents.join(", ") || "-"],
      ["worktree", unit.worktree ?? "-"],
      ["created", unit.created_at],
      ["updated", unit.updated_at],
      ["status since", statusSince(unit)],
    ],
    (row, column, text) => (row === 2 && column === 1 ? status(text as Status) : text),
  )
    .split("\n")
    .slice(1)
    .join("\n");
  const rows = history.map((h) => [
    h.timestamp,
    h.old_status ? `${h.old_status} -> ${h.new_status}` : h.new_status,
    h.old_phase && h.old_phase !== h.new_phase ? `${h.old_phase} -> ${h.new_phase}` : (h.new_phase ?? "-"),
    `${h.reason ?? "-"}${h.forced ? " (forced)" : ""}`,
  ]);
  return `${fields}\n\n${table(["WHEN", "STATUS", "PHASE", "WHY"], rows)}`;
}

export function daemonSummary(s: DaemonStatus): string {
  const counts = Object.entries(s.work_unit_counts)
    .map(([name, n]) => `${name} ${n}`)
    .join(", ");
  const where = s.transport === "unix" ? `unix socket ${s.socket}` : `tcp 127.0.0.1:${s.port}`;
  return [
    `ve daemon running (pid ${s.pid}, ve ${s.version})`,
    `  project     ${s.project_dir}`,
    `  listening   ${where}`,
    `  uptime      ${duration(s.uptime_seconds)} (since ${s.started_at})`,
    `  work units  ${counts}`,
  ].join("\n");
}
