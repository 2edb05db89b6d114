// Argument definitions shared by several commands, each described once.
import { PHASES, STATUSES } from "../domain.ts";
import { VeError } from "../errors.ts";
import type { VeArgDef } from "./command-defs.ts";

export const projectDirArg = {
  "project-dir": {
    type: "string",
    valueHint: "dir",
    description:
      "Project directory (default: $VE_PROJECT_DIR, else the nearest parent holding .ve/ or .git, else the current directory)",
  },
} as const satisfies Record<string, VeArgDef>;

export const jsonArg = {
  json: {
    type: "boolean",
    description: "Print exactly one JSON document on stdout (errors too) for scripts",
  },
} as const satisfies Record<string, VeArgDef>;

/** Every command takes these. */
export const commonArgs = { ...projectDirArg, ...jsonArg };

export const chunkArg = {
  chunk: { type: "positional", required: true, valueHint: "chunk", description: "Name of the work unit (its chunk)" },
} as const satisfies Record<string, VeArgDef>;

export const statusOption = (description: string) =>
  ({ status: { type: "enum", options: [...STATUSES], description } }) as const satisfies Record<string, VeArgDef>;

export const phaseOption = (description: string) =>
  ({ phase: { type: "enum", options: [...PHASES], description } }) as const satisfies Record<string, VeArgDef>;

export const blockedByOption = (description: string) =>
  ({
    "blocked-by": { type: "string", repeatable: true, valueHint: "chunk", description },
  }) as const satisfies Record<string, VeArgDef>;

export const forceOption = (description: string) =>
  ({ force: { type: "boolean", description } }) as const satisfies Record<string, VeArgDef>;

/** An integer option's value, or a usage error naming the option. */
export function integerOption(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const number = Number(text);
  if (!/^\d+$/.test(text) || number < min || number > max) {
    throw usageError(`--${name} must be a whole number from ${min} to ${max}, not '${text}'`);
  }
  return number;
}

export function usageError(message: string): VeError {
  return new VeError("usage", `${message}.`);
}

/** The values of a `repeatable` option (the runner collects them into a list). */
export function listOption(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.map(String) : [String(value)];
}
