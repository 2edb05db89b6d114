// Text for people: how work units, histories and the daemon's status look in a terminal.
import type { Status } from "../domain.ts";
import type { DaemonStatus, StatusLogEntry, WorkUnit } from "../models.ts";
import { type Color, age, duration, paint, table } from "./output.ts";

const STATUS_COLOR: Record<Status, Color> = {
  READY: "green",
  RUNNING: "cyan",
  BLOCKED: "yellow",
  NEEDS_ATTENTION: "magenta",
  DONE: "gray",
};

export function status(value: Status): string {
  return paint(process.stdout, STATUS_COLOR[value], value);
}

export function unitTable(units: readonly WorkUnit[], now = Date.now()): string {
  if (units.length === 0) return "No work units.";
  return table(
    ["CHUNK", "PHASE", "STATUS", "BLOCKED BY", "AGE"],
    units.map((u) => [u.chunk, u.phase, status(u.status), u.blocked_by.join(",") || "-", age(u.created_at, now)]),
  );
}

export function unitSummary(unit: WorkUnit): string {
  const blockers = unit.blocked_by.length ? `, blocked by ${unit.blocked_by.join(", ")}` : "";
  return `${unit.chunk}: ${status(unit.status)} (phase ${unit.phase}${blockers})`;
}

export function unitDetail(unit: WorkUnit, history: readonly StatusLogEntry[]): string {
  const fields = table(
    ["FIELD", "VALUE"],
    [
      ["chunk", unit.chunk],
      ["phase", unit.phase],
      ["status", status(unit.status)],
      ["blocked by", unit.blocked_by.join(", ") || "-"],
      ["worktree", unit.worktree ?? "-"],
      ["created", unit.created_at],
      ["updated", unit.updated_at],
    ],
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
