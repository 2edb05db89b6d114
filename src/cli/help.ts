// Help pages, drawn from the command table. Loaded only when help is shown: no command needs
// it to run. Pages fit the terminal (or 80 columns off one) and carry no trailing spaces.
import type { VeArgDef } from "./command-defs.ts";
import { type Command, resolveValue, visibleSubCommands } from "./command-defs.ts";
import { outputWidth, paint, type Stream, wrap } from "./output.ts";

/** Off a terminal, help is still read by people (`ve --help | less`): a readable width. */
const DEFAULT_HELP_COLUMNS = 80;
/** A name column wider than this puts the description on the next line instead. */
const MAX_NAME_COLUMNS = 28;

/** `--name <hint>` as the user types it. */
export function optionLabel(name: string, def: VeArgDef): string {
  const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
  const short = aliases.filter((a) => a.length === 1).map((a) => `-${a}, `);
  const hint = def.type === "boolean" ? "" : ` <${"valueHint" in def && def.valueHint ? def.valueHint : name}>`;
  return `${short.join("")}--${name}${hint}`;
}

export function positionalLabel(name: string, def: VeArgDef): string {
  const label = name.toUpperCase();
  return def.required === false ? `[${label}]` : label;
}

function describe(def: VeArgDef): string {
  let text = def.description ?? "";
  if (def.type === "enum" && def.options?.length) text += ` (one of ${def.options.join(", ")})`;
  return text;
}

/** Two columns: names, then descriptions wrapped to the width; a long name gets its own line. */
function rows(entries: readonly [string, string][], width: number): string[] {
  const nameWidth = Math.max(0, ...entries.map(([name]) => name.length).filter((n) => n <= MAX_NAME_COLUMNS));
  const indent = 2 + nameWidth + 3;
  const textWidth = Math.max(20, width - indent);
  const out: string[] = [];
  for (const [name, text] of entries) {
    const lines = text ? wrap(text, textWidth) : [];
    if (name.length > nameWidth) {
      out.push(`  ${name}`);
      for (const line of lines) out.push(`${" ".repeat(indent)}${line}`);
      continue;
    }
    const [first, ...more] = lines;
    out.push(first === undefined ? `  ${name}` : `  ${name.padEnd(nameWidth)}   ${first}`);
    for (const line of more) out.push(`${" ".repeat(indent)}${line}`);
  }
  return out;
}

/** The help page of `command`, reached as `name` (e.g. `ve orch ps`). */
export async function renderHelp(command: Command, name: string, stream: Stream, version?: string): Promise<string> {
  const width = outputWidth(stream) ?? DEFAULT_HELP_COLUMNS;
  const meta = await resolveValue(command.meta);
  const heading = (text: string) => paint(stream, "bold", text);
  const lines: string[] = [];
  const title = `${meta?.description ?? ""} (${name}${version ? ` ${version}` : ""})`;
  lines.push(...wrap(title, width), "");

  const subCommands = await visibleSubCommands(command);
  const defs = ((await resolveValue(command.args)) ?? {}) as Record<string, VeArgDef>;
  const positionals = Object.entries(defs).filter(([, def]) => def.type === "positional");
  const options = Object.entries(defs).filter(([, def]) => def.type !== "positional" && def.hidden !== true);

  if (subCommands.length > 0) {
    lines.push(`${heading("USAGE")} ${name} <command>`, "");
    lines.push(heading("COMMANDS"), "");
    const entries = subCommands.map(([key, sub]): [string, string] => [key, sub.description]);
    lines.push(...rows([...entries, ["help", "Show the help of a command: help <command>"]], width));
    lines.push("", ...wrap(`Run \`${name} <command> --help\` (or \`${name} help <command>\`) for a command's options.`, width));
  } else {
    const usage = [name, ...(options.length ? ["[OPTIONS]"] : []), ...positionals.map(([n, def]) => positionalLabel(n, def))];
    const [first = "", ...more] = wrap(`USAGE ${usage.join(" ")}`, width);
    lines.push(`${heading("USAGE")}${first.slice(5)}`, ...more);
    if (positionals.length > 0) {
      lines.push("", heading("ARGUMENTS"), "");
      lines.push(...rows(positionals.map(([n, def]) => [positionalLabel(n, def), describe(def)]), width));
    }
    lines.push("", heading("OPTIONS"), "");
    lines.push(...rows([...options.map(([n, def]): [string, string] => [optionLabel(n, def), describe(def)]), ["-h, --help", "Show this help"]], width));
  }
  return lines.join("\n");
}
