import { defineCommand } from "citty";
import { ATTENTION_KINDS } from "../../../domain.ts";
import type { AttentionEntry } from "../../../models/index.ts";
import { commonArgs } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { age, paint } from "../../output.ts";

/**
 * Text an agent wrote, made safe for a terminal: control characters (an escape sequence could
 * move the cursor or retitle the window) shown as `\u001b`; line breaks and tabs kept.
 */
export function printable(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Every line of `text` indented by `by` (a question or a reason may span lines). */
function indent(text: string, by: string): string {
  return printable(text)
    .split("\n")
    .map((line) => `${by}${line}`)
    .join("\n");
}

/** One wait as a block: a heading line, the question or reason, the options, the command. */
function entryBlock(entry: AttentionEntry, now: number): string {
  const facts = [
    entry.kind ?? "set by hand",
    `waiting ${age(entry.since, now)}`,
    ...(entry.releases > 0 ? [`releases ${entry.releases}`] : []),
    `phase ${entry.phase}`,
    ...(entry.run_id ? [`run ${entry.run_id}`] : []),
  ];
  const lines = [`${paint("stdout", "bold", entry.chunk)}  ${facts.join("  ")}`];
  if (entry.question !== null) {
    lines.push(indent(entry.question, "  "));
    entry.options.forEach((option, i) => {
      const label = `    ${i + 1}. `;
      lines.push(label + indent(option, " ".repeat(label.length)).slice(label.length));
    });
    if (entry.reason !== entry.question) lines.push(indent(`(${entry.reason})`, "  "));
  } else {
    lines.push(indent(entry.reason, "  "));
  }
  const how = entry.kind === "question" && entry.options.length > 0 ? `${entry.command}   or: ve orch answer ${entry.chunk} "ANSWER"` : entry.command;
  lines.push(`  -> ${how}`);
  return lines.join("\n");
}

export function attentionText(entries: readonly AttentionEntry[], now = Date.now()): string {
  if (entries.length === 0) return "Nothing waits on a person.";
  const head = `${entries.length} ${entries.length === 1 ? "unit waits" : "units wait"} on a person (first what releases the most units, then the oldest):`;
  return [head, ...entries.map((e) => entryBlock(e, now))].join("\n\n");
}

export default defineCommand({
  meta: {
    name: "attention",
    description: "The units waiting on a person, with their question and options: first what releases the most units, then the oldest",
  },
  args: {
    kind: { type: "enum", options: [...ATTENTION_KINDS], description: "Only the waits of this kind" },
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const kind = typeof args.kind === "string" ? (args.kind as (typeof ATTENTION_KINDS)[number]) : undefined;
    await emit(ctx, await ctx.client.attention(kind), (doc) => attentionText(doc.attention));
  },
});
