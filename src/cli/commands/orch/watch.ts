import { defineCommand } from "citty";
import { STATUSES } from "../../../domain.ts";
import { VeError } from "../../../errors.ts";
import type { AttentionEntry, DaemonEvent, WorkUnit } from "../../../models/index.ts";
import { jsonArg, phaseOption, projectDirArg, statusOption, usageError } from "../../args.ts";
import { type CommandContext, commandContext } from "../../context.ts";
import { EXIT_NOT_RUNNING, EXIT_OK } from "../../exit.ts";
import { age, logger, paint, truncate } from "../../output.ts";
import { unitTable } from "../../render.ts";
import { eventLine, printLine, stopOnSignals } from "./events.ts";

/** Changes that come together (a transaction, a burst) are drawn once. */
const REDRAW_DELAY_MS = 50;
/** On a terminal the ages (FOR, waiting) move on even when nothing changes. */
const TICK_MS = 1000;

const CLEAR = "\u001b[H\u001b[2J\u001b[3J";
const HIDE_CURSOR = "\u001b[?25l";
const SHOW_CURSOR = "\u001b[?25h";

/**
 * The queue from the units alone, for a daemon without GET /attention: units waiting on a
 * person, the longest waiting first.
 */
export function attentionFromUnits(units: readonly WorkUnit[], now = Date.now()): AttentionEntry[] {
  return units
    .filter((u) => u.status === "NEEDS_ATTENTION")
    .map((u) => {
      const since = u.attention?.since ?? u.status_changed_at;
      return {
        chunk: u.chunk,
        phase: u.phase,
        scheduled: u.scheduled,
        kind: u.attention?.kind ?? null,
        reason: u.attention?.reason ?? "set NEEDS_ATTENTION by hand",
        question: u.attention?.question ?? null,
        options: u.attention?.options ?? [],
        since,
        waiting_s: Math.max(0, Math.floor((now - Date.parse(since)) / 1000)),
        run_id: u.attention?.run_id ?? null,
        releases: 0,
        command: `ve orch retry ${u.chunk}`,
      };
    })
    .sort((a, b) => a.since.localeCompare(b.since));
}

export interface Frame {
  units: readonly WorkUnit[];
  /** In the order to work it (GET /attention). */
  queue: readonly AttentionEntry[];
  filter: { status?: string; phase?: string };
  lastEvent?: DaemonEvent;
  now: number;
  width?: number | undefined;
  /** Rows of the terminal: the table is cut to fit (undefined: every row). */
  height?: number | undefined;
  project: string;
}

/** One screen: a title, the attention queue, the ps table, the last change. */
export function renderFrame(frame: Frame): string {
  const { units, now, width } = frame;
  const fit = (line: string) => (width === undefined ? line : truncate(line, width));
  const summary =
    STATUSES.map((s) => [s, units.filter((u) => u.status === s).length] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${s} ${n}`)
      .join(", ") || "no units";
  const lines: string[] = [fit(`${paint("stdout", "bold", "ve orch watch")}  ${frame.project}  ${new Date(now).toISOString().slice(11, 19)}  ${summary}`), ""];
  const { queue } = frame;
  if (queue.length > 0) {
    lines.push(paint("stdout", "magenta", `NEEDS ATTENTION (${queue.length})`));
    for (const e of queue) {
      const facts = [e.kind ?? "set by hand", `waiting ${age(e.since, now)}`, ...(e.releases > 0 ? [`releases ${e.releases}`] : [])];
      // One line each: a question or reason that spans lines is shown whole by `ve orch attention`.
      const what = (e.question ?? e.reason).replace(/\s+/g, " ");
      lines.push(fit(`  ${paint("stdout", "bold", e.chunk)}  ${facts.join("  ")}  ${what}`));
      const options = e.options.length ? `${e.options.map((o, i) => `${i + 1}) ${o.replace(/\s+/g, " ")}`).join("  ")}   ` : "";
      lines.push(fit(`      ${options}-> ${e.command}`));
    }
    lines.push("");
  }
  const shown = units.filter((u) => (!frame.filter.status || u.status === frame.filter.status) && (!frame.filter.phase || u.phase === frame.filter.phase));
  let table = unitTable(shown, now, width).split("\n");
  const footer = frame.lastEvent ? ["", fit(`last: ${eventLine(frame.lastEvent)}`)] : [];
  if (frame.height !== undefined) {
    const room = frame.height - lines.length - footer.length - 1;
    if (table.length > room && room >= 2) table = [...table.slice(0, room - 1), `... ${table.length - room + 1} more (\`ve orch ps\` lists all)`];
  }
  lines.push(...table, ...footer);
  return lines.join("\n");
}

async function fetchState(ctx: CommandContext): Promise<{ units: WorkUnit[]; queue: AttentionEntry[] }> {
  const [units, queue] = await Promise.all([
    ctx.client.listWorkUnits().then((r) => r.data.work_units),
    ctx.client.attention().then(
      (r) => r.data.attention,
      (error: unknown) => {
        // A daemon from before the attention queue: the units say who waits.
        if (error instanceof VeError && error.code === "unknown_route") return undefined;
        throw error;
      },
    ),
  ]);
  return { units, queue: queue ?? attentionFromUnits(units) };
}

export default defineCommand({
  meta: {
    name: "watch",
    description: "A live `ps` with the attention queue on top, redrawn on every change, until Ctrl-C or the daemon stops",
  },
  args: {
    ...projectDirArg,
    // Refused with the command that gives JSON, so not offered.
    json: { ...jsonArg.json, hidden: true },
    ...statusOption("Only units with this status in the table"),
    ...phaseOption("Only units in this phase in the table"),
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    if (ctx.json) throw usageError("watch draws for a person; `ve orch events --json` gives the changes as JSON lines");
    const filter = { ...(args.status ? { status: args.status } : {}), ...(args.phase ? { phase: args.phase } : {}) };
    // On a terminal each frame replaces the last; piped, each change prints a frame of its own.
    const live = Boolean(process.stdout.isTTY);
    const stop = stopOnSignals();
    let state: { units: WorkUnit[]; queue: AttentionEntry[] } = { units: [], queue: [] };
    let lastEvent: DaemonEvent | undefined;
    let lastFrame = "";
    const draw = (force = false) => {
      const text = renderFrame({
        ...state,
        filter,
        now: Date.now(),
        project: ctx.paths.root,
        ...(lastEvent ? { lastEvent } : {}),
        width: live ? process.stdout.columns || undefined : undefined,
        height: live ? process.stdout.rows || undefined : undefined,
      });
      if (!force && text === lastFrame) return;
      lastFrame = text;
      if (live) process.stdout.write(`${CLEAR}${text}\n`);
      else printLine(`${text}\n`);
    };
    // Subscribed first, then read: a change between the two is then never missed.
    let connected!: () => void;
    const subscribed = new Promise<void>((resolve) => {
      connected = resolve;
    });
    const events = ctx.client.events({ signal: stop.signal, onConnect: () => connected() })[Symbol.asyncIterator]();
    const first = events.next();
    // `first` fails at once when no daemon answers.
    await Promise.race([subscribed, first]);
    state = await fetchState(ctx);
    if (live) process.stdout.write(HIDE_CURSOR);
    const restore = () => {
      if (live) process.stdout.write(SHOW_CURSOR);
    };
    let tick: ReturnType<typeof setInterval> | undefined;
    try {
      draw(true);
      if (live) {
        tick = setInterval(() => draw(), TICK_MS);
        process.stdout.on("resize", () => draw(true));
      }
      let pending: ReturnType<typeof setTimeout> | undefined;
      let refreshing: Promise<void> = Promise.resolve();
      const refresh = () => {
        pending = undefined;
        refreshing = refreshing.then(async () => {
          state = await fetchState(ctx);
          draw();
        });
        refreshing.catch(() => {});
      };
      for (let next = await first; !next.done; next = await events.next()) {
        const event = next.value;
        if (event.event === "shutdown") {
          if (pending) clearTimeout(pending);
          restore();
          logger().warn("the daemon stopped; watch ended (`ve orch start` starts it again).");
          return EXIT_NOT_RUNNING;
        }
        if (event.event.startsWith("unit.") || event.event.startsWith("attention.") || event.event.startsWith("run.") || event.event === "reset") {
          lastEvent = event;
          pending ??= setTimeout(refresh, REDRAW_DELAY_MS);
        }
      }
      if (pending) clearTimeout(pending);
      return EXIT_OK;
    } finally {
      if (tick) clearInterval(tick);
      restore();
    }
  },
});
