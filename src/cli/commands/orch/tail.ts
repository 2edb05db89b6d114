import { existsSync } from "node:fs";
import { defineCommand } from "citty";
import type { AgentEvent } from "../../../agents/backend.ts";
import { type RunLogEntry, readRunLog } from "../../../engine/run-log.ts";
import { VeError } from "../../../errors.ts";
import type { Run } from "../../../models/index.ts";
import { chunkArg, commonArgs, usageError } from "../../args.ts";
import { commandContext, emitValue } from "../../context.ts";
import { print, printErr } from "../../output.ts";

const FOLLOW_POLL_MS = 200;

function renderEvent(event: AgentEvent): string | undefined {
  switch (event.type) {
    case "text":
      return event.text;
    case "tool_call":
      return `→ ${event.name} ${JSON.stringify(event.input).slice(0, 200)}`;
    case "tool_result":
      return event.ok ? undefined : `✗ ${event.text ?? "tool failed"}`;
    case "question":
      return `? ${event.question}${event.options ? ` (${event.options.join(" / ")})` : ""}`;
    case "result":
      return `== ${event.outcome}: ${event.reason}`;
    case "init":
      return `== session ${event.session_id}${event.version ? ` (${event.version})` : ""}`;
    case "usage":
      return undefined;
    case "progress":
      return `… ${event.text}`;
  }
}

/** One entry as a person reads it; raw: the agent's own lines only. */
function render(entry: RunLogEntry, raw: boolean): string | undefined {
  if ("raw" in entry) return raw ? entry.raw : undefined;
  if (raw) return undefined;
  if ("event" in entry) return renderEvent(entry.event);
  if ("truncated" in entry) return `== output beyond ${entry.limit_bytes} bytes was not kept`;
  return `== ${entry.note}`;
}

export default defineCommand({
  meta: { name: "tail", description: "Show what a unit's agent printed (its latest run, or --run ID)" },
  args: {
    ...chunkArg,
    follow: { type: "boolean", alias: "f", description: "Keep printing until the run ends (waiting for the first run of a unit that has none yet)" },
    run: { type: "string", valueHint: "id", description: "This run instead of the latest" },
    raw: { type: "boolean", description: "The agent's own output lines, as it printed them" },
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    if (args.follow && ctx.json) throw usageError("--follow cannot be combined with --json (one document only)");
    const runs = (await ctx.client.runs(args.chunk)).data.runs;
    let run: Run | undefined = typeof args.run === "string" ? runs.find((r) => r.id === args.run) : runs.at(-1);
    const stop = new AbortController();
    if (args.follow) {
      process.once("SIGINT", () => stop.abort());
      process.once("SIGTERM", () => stop.abort());
    }
    // `inject` then `tail -f` at once: a unit the engine will run gets followed from its first run.
    let none = "";
    if (!run && args.follow && typeof args.run !== "string") {
      const unit = (await ctx.client.getWorkUnit(args.chunk)).data;
      none = unit.scheduled ? " and it is DONE" : "; it is only tracked, so none will start (`ve orch inject` has the engine run units)";
      if (unit.scheduled && unit.status !== "DONE") {
        printErr(`ve: waiting for the first run of '${args.chunk}' (${unit.status}); Ctrl-C stops.`);
        while (!run && !stop.signal.aborted) {
          await Bun.sleep(FOLLOW_POLL_MS);
          run = (await ctx.client.runs(args.chunk)).data.runs.at(-1);
        }
        if (!run) return;
      }
    }
    if (!run) {
      throw new VeError(
        "not_found",
        typeof args.run === "string"
          ? `Work unit '${args.chunk}' has no run '${args.run}'; \`ve orch runs ${args.chunk}\` lists them.`
          : `Work unit '${args.chunk}' has no runs yet${none}.`,
        { chunk: args.chunk },
      );
    }
    const raw = args.raw === true;
    let shown = 0;
    const flush = () => {
      const entries = readRunLog((run as Run).log);
      for (const entry of entries.slice(shown)) {
        const line = render(entry, raw);
        if (line !== undefined) print(line);
      }
      shown = entries.length;
    };
    if (ctx.json) return emitValue(ctx, { run, entries: readRunLog(run.log) }, () => "");
    flush();
    // An ended run whose log was deleted (by hand, or with its .ve/runs/ directory) would
    // otherwise print nothing at all, as if the agent had been silent.
    if (run.ended_at !== null && !existsSync(run.log)) printErr(`ve: the output of run ${run.id} is not kept: ${run.log} is gone.`);
    if (!args.follow) return;
    while (!stop.signal.aborted && run.ended_at === null) {
      await Bun.sleep(FOLLOW_POLL_MS);
      flush();
      run = (await ctx.client.run(run.id)).data;
    }
    flush();
  },
});
