// Text for people: how work units, histories and the daemon's status look in a terminal.
import type { Status } from "../domain.ts";
import type { DaemonStatus, StatusLogEntry, WorkUnit } from "../models/index.ts";
import { type Color, age, duration, paint, table, useColor } from "./output.ts";

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

const UNIT_HEADER = ["CHUNK", "PHASE", "STATUS", "BLOCKED BY", "AGE"] as const;

/**
 * The `ps` table. Written as plain loops rather than through `table()`: it is the CLI's most
 * frequent output, and it runs before the JIT warms up, where every call and closure counts.
 */
export function unitTable(units: readonly WorkUnit[], now = Date.now()): string {
  if (units.length === 0) return "No work units.";
  const blockers = new Array<string>(units.length);
  const ages = new Array<string>(units.length);
  let chunkWidth = UNIT_HEADER[0].length;
  let phaseWidth = UNIT_HEADER[1].length;
  let statusWidth = UNIT_HEADER[2].length;
  let blockedWidth = UNIT_HEADER[3].length;
  for (let i = 0; i < units.length; i++) {
    const u = units[i] as WorkUnit;
    const b = u.blocked_by.length ? u.blocked_by.join(",") : "-";
    blockers[i] = b;
    ages[i] = age(u.created_at, now);
    if (u.chunk.length > chunkWidth) chunkWidth = u.chunk.length;
    if (u.phase.length > phaseWidth) phaseWidth = u.phase.length;
    if (u.status.length > statusWidth) statusWidth = u.status.length;
    if (b.length > blockedWidth) blockedWidth = b.length;
  }
  const color = useColor("stdout");
  const cells = (chunk: string, phase: string, state: string, paintedState: string, blocked: string, when: string) =>
    `${chunk.padEnd(chunkWidth)}  ${phase.padEnd(phaseWidth)}  ${paintedState}${" ".repeat(statusWidth - state.length)}  ${blocked.padEnd(blockedWidth)}  ${when}`;
  const [h0, h1, h2, h3, h4] = UNIT_HEADER;
  const header = cells(h0, h1, h2, h2, h3, h4);
  let out = color ? paint("stdout", "bold", header) : header;
  for (let i = 0; i < units.length; i++) {
    const u = units[i] as WorkUnit;
    out += `\n${cells(u.chunk, u.phase, u.status, color ? status(u.status) : u.status, blockers[i] as string, ages[i] as string)}`;
  }
  return out;
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
      ["status", unit.status],
      ["blocked by", unit.blocked_by.join(", ") || "-"],
      ["worktree", unit.worktree ?? "-"],
      ["created", unit.created_at],
      ["updated", unit.updated_at],
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
