// What a command definition is, shared by the runner and the modules it loads lazily (help,
// messages, completion): kept apart from the runner so that those import it without importing
// the runner back, which would make a circle.
import type { ArgDef, ArgsDef, CommandDef } from "citty";

/**
 * An argument definition as citty knows it, plus `repeatable` for flags given several times
 * (each value also split at commas, unless `wholeValues`: values that are sentences).
 */
/** `hidden`: accepted (to answer it with a clear error) but not offered by help or completion. */
export type VeArgDef = ArgDef & { repeatable?: boolean; wholeValues?: boolean; hidden?: boolean };
export type Command = CommandDef<ArgsDef>;
export type ParsedArgs = Record<string, string | string[] | boolean | undefined>;

export async function resolveValue<T>(value: T | Promise<T> | (() => T | Promise<T>)): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

export interface SubCommandInfo {
  description: string;
  command: Command;
}

/** The commands of a group that help lists and completion offers (hidden ones left out). */
export async function visibleSubCommands(command: Command): Promise<[string, SubCommandInfo][]> {
  const subCommands = await resolveValue(command.subCommands);
  const out: [string, SubCommandInfo][] = [];
  for (const [key, sub] of Object.entries(subCommands ?? {})) {
    const resolved = await resolveValue(sub);
    const meta = await resolveValue(resolved.meta);
    if (!meta?.hidden) out.push([key, { description: meta?.description ?? "", command: resolved }]);
  }
  return out;
}
