// How the CLI writes. Results go to stdout: with --json exactly one JSON document (the
// daemon's body as sent, or the error object), otherwise text for people. Warnings and errors
// for people go to stderr through consola. Colour only on a terminal and without NO_COLOR.
import { type LogObject, createConsola } from "consola/core";
import type { VeError } from "../errors.ts";

export function useColor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

const ANSI = /\u001b\[[0-9;]*m/g;
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

export const COLORS = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Color = keyof typeof COLORS;

export function paint(stream: NodeJS.WriteStream, color: Color, text: string): string {
  if (!useColor(stream)) return text;
  const reset = color === "bold" ? 22 : 39;
  return `\u001b[${COLORS[color]}m${text}\u001b[${reset}m`;
}

const PREFIX: Partial<Record<LogObject["type"], [string, Color]>> = {
  error: ["error:", "red"],
  fatal: ["error:", "red"],
  warn: ["warning:", "yellow"],
  info: ["", "gray"],
};

/** Messages for people on stderr; never used for anything a script parses. */
export const logger = createConsola({
  level: 3,
  throttle: 0,
  reporters: [
    {
      log(entry) {
        const [label, color] = PREFIX[entry.type] ?? ["", "gray"];
        const text = entry.args.map(String).join(" ");
        const prefix = label ? `${paint(process.stderr, color, `ve: ${label}`)} ` : "";
        process.stderr.write(`${prefix}${text}\n`);
      },
    },
  ],
});

/** One line (or block) of result on stdout. */
export function print(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

export function printError(error: VeError, json: boolean): void {
  if (json) {
    print(JSON.stringify(error.toBody()));
    return;
  }
  logger.error(error.message);
  const tail = (error.details as { log_tail?: unknown } | undefined)?.log_tail;
  if (Array.isArray(tail) && tail.length > 0) {
    process.stderr.write(`${paint(process.stderr, "gray", "  last lines of the daemon log:")}\n`);
    for (const line of tail) process.stderr.write(`    ${line}\n`);
  }
}

/** Columns padded to their widest cell (colour codes not counted); no trailing spaces. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => stripAnsi(r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - stripAnsi(cell).length)))
      .join("  ");
  return [line(header.map((h) => paint(process.stdout, "bold", h))), ...rows.map(line)].join("\n");
}

/** `42s`, `5m`, `3h`, `2d`: how long ago `iso` was. */
export function age(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

export function duration(totalSeconds: number): string {
  const s = Math.floor(totalSeconds);
  const parts = [
    [Math.floor(s / 86400), "d"],
    [Math.floor((s % 86400) / 3600), "h"],
    [Math.floor((s % 3600) / 60), "m"],
    [s % 60, "s"],
  ] as const;
  const shown = parts.filter(([n]) => n > 0).slice(0, 2);
  return shown.length ? shown.map(([n, u]) => `${n}${u}`).join(" ") : "0s";
}
