import { defineCommand } from "citty";
import type { DaemonEvent } from "../../../models/index.ts";
import { commonArgs, integerOption } from "../../args.ts";
import { commandContext } from "../../context.ts";
import { EXIT_NOT_RUNNING, EXIT_OK } from "../../exit.ts";
import { type Color, logger, paint } from "../../output.ts";

const EVENT_COLOR: Record<string, Color> = {
  "unit.created": "green",
  "unit.changed": "cyan",
  "unit.deleted": "gray",
  "run.started": "blue",
  "run.ended": "blue",
  "attention.added": "magenta",
  "attention.resolved": "magenta",
  reset: "yellow",
  dropped: "yellow",
  shutdown: "red",
};

/** `HH:MM:SS` of an ISO time, in UTC like every time the daemon writes. */
function clock(iso: string): string {
  return iso.slice(11, 19);
}

/** What happened, in one line a person reads (without the time and the name). */
export function describeEvent(event: DaemonEvent): string {
  switch (event.event) {
    case "unit.created":
      return `${event.data.chunk} created ${event.data.new_status} (phase ${event.data.new_phase}): ${event.data.reason}`;
    case "unit.changed": {
      const d = event.data;
      const status = d.old_status === d.new_status ? `${d.new_status}` : `${d.old_status} -> ${d.new_status}`;
      const phase = d.old_phase === d.new_phase ? "" : ` (phase ${d.old_phase} -> ${d.new_phase})`;
      return `${d.chunk} ${status}${phase}: ${d.reason}`;
    }
    case "unit.deleted":
      return `${event.data.chunk} deleted (was ${event.data.old_status}): ${event.data.reason}`;
    case "run.started": {
      const r = event.data.run;
      return `${r.chunk} run ${r.id} started (${r.purpose === "resolve" ? "conflict resolution" : `phase ${r.phase}`}, attempt ${r.attempt}, ${r.backend})`;
    }
    case "run.ended": {
      const r = event.data.run;
      return `${r.chunk} run ${r.id} ended ${r.outcome ?? "?"}${r.reason ? `: ${r.reason}` : ""}`;
    }
    case "attention.added": {
      const a = event.data.attention;
      const options = a.options?.length ? ` [${a.options.join(" / ")}]` : "";
      return `${event.data.chunk} needs attention (${a.kind}): ${a.question ?? a.reason}${options}`;
    }
    case "attention.resolved":
      return `${event.data.chunk} attention (${event.data.attention.kind}) resolved${event.data.reason ? `: ${event.data.reason}` : ""}`;
    default:
      return event.data.message;
  }
}

/** The time of an event: the change's own, else now. */
function timeOf(event: DaemonEvent): string {
  const data = event.data as { timestamp?: string; run?: { ended_at: string | null; started_at: string }; attention?: { since: string } };
  if (data.timestamp) return data.timestamp;
  if (event.event === "run.ended" && data.run?.ended_at) return data.run.ended_at;
  if (event.event === "run.started" && data.run) return data.run.started_at;
  if (event.event === "attention.added" && data.attention) return data.attention.since;
  return new Date().toISOString();
}

export function eventLine(event: DaemonEvent): string {
  const name = paint("stdout", EVENT_COLOR[event.event] ?? "gray", event.event.padEnd(18));
  return `${clock(timeOf(event))}  ${name} ${describeEvent(event)}`;
}

/**
 * Ends the command when the person presses Ctrl-C (or it is told to end), or when whatever
 * reads its output has gone (`ve orch events | head -1`): exit 0, no trace.
 */
export function stopOnSignals(): AbortController {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    stop.abort();
  });
  return stop;
}

/** One line on stdout, through the stream whose EPIPE stopOnSignals hears. */
export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

export default defineCommand({
  meta: {
    name: "events",
    description:
      "Print every change as it happens (one line each; --json: one JSON object per line) until Ctrl-C or the daemon stops",
  },
  args: {
    ...commonArgs,
    json: { type: "boolean", description: "One JSON object per line: {id, event, data}, as GET /events sends them" },
    after: {
      type: "string",
      valueHint: "id",
      description: "Start after this event id (the last one you saw): the daemon replays what it still holds, else says `reset`",
    },
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const after = integerOption("after", args.after, 0, Number.MAX_SAFE_INTEGER);
    const stop = stopOnSignals();
    const events = ctx.client.events({ ...(after === undefined ? {} : { lastEventId: after }), signal: stop.signal });
    for await (const event of events) {
      if (stop.signal.aborted) break;
      printLine(ctx.json ? JSON.stringify(event) : eventLine(event));
      if (event.event === "shutdown") {
        if (!ctx.json) logger().warn("the daemon stopped; no more events (`ve orch start` starts it again).");
        return EXIT_NOT_RUNNING;
      }
    }
    return EXIT_OK;
  },
});
