import { defineCommand } from "citty";
import { commonArgs, usageError } from "../../args.ts";
import { commandContext, emit, emitValue } from "../../context.ts";
import { table } from "../../output.ts";

function shown(value: unknown): string {
  if (value === null) return "-";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A value as typed: JSON where it parses as a number (0.9 too) or a list, else the text itself. */
function typedValue(text: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text.startsWith("[")) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export default defineCommand({
  meta: { name: "config", description: "Show or change the engine's settings (effective at once, kept in the project's state)" },
  args: {
    key: { type: "positional", required: false, valueHint: "key", description: "The setting to show or change" },
    value: { type: "positional", required: false, valueHint: "value", description: 'Its new value (a number, a text, or a JSON list like ["--model","x"])' },
    unset: { type: "string", valueHint: "key", description: "Reset this setting to its default" },
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const key = typeof args.key === "string" ? args.key : undefined;
    const value = typeof args.value === "string" ? args.value : undefined;
    if (typeof args.unset === "string") {
      if (key !== undefined) throw usageError("Give either KEY [VALUE] or --unset KEY");
      return emit(ctx, await ctx.client.unsetConfig(args.unset), (e) => `${e.key} = ${shown(e.value)} (default)`);
    }
    if (key !== undefined && value !== undefined) {
      return emit(ctx, await ctx.client.setConfig(key, typedValue(value)), (e) => `${e.key} = ${shown(e.value)}`);
    }
    const reply = await ctx.client.config();
    if (key !== undefined) {
      const entry = reply.data.settings.find((e) => e.key === key);
      if (!entry) throw usageError(`'${key}' is not a setting; \`ve orch config\` lists them`);
      return emitValue(ctx, entry, (e) => shown(e.value));
    }
    await emit(ctx, reply, (doc) =>
      table(
        ["KEY", "VALUE", "FROM", "WHAT"],
        doc.settings.map((e) => [e.key, shown(e.value), e.source, e.description]),
      ),
    );
  },
});
