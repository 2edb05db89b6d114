// How the CLI writes. Results go to stdout: with --json exactly one JSON document (the
// daemon's body as sent, or the error object), otherwise text for people. Warnings and errors
// for people go to stderr through consola. Colour only on a terminal and without NO_COLOR.
//
// Start-up cost shapes this module: touching `process.stdout` or `process.stderr` builds
// Node's stream objects, which costs several times a whole bare Bun start; `console.log`
// and `console.error` write the same bytes without them.
import { type ConsolaInstance, type LogObject, createConsola } from "consola/core";
import type { VeError } from "../errors.ts";

export type Stream = "stdout" | "stderr";
const FD: Record<Stream, number> = { stdout: 1, stderr: 2 };

function isTerminal(fd: number): boolean {
  // Bun's tty_wrap binding answers isatty without loading node:tty (which costs as much as
  // the rest of the CLI); the stream property is the fallback where the binding is missing.
  try {
    const binding = (process as unknown as { binding(name: string): { isTTY(fd: number): boolean } }).binding("tty_wrap");
    return binding.isTTY(fd);
  } catch {
    return Boolean((fd === 1 ? process.stdout : process.stderr).isTTY);
  }
}

/** Columns of the terminal on `fd`, or undefined when it is no terminal (or will not say). */
function windowColumns(fd: number): number | undefined {
  // Asked first because it is cheap (microseconds): on a pipe or a file, which is how scripts
  // and the benchmarks run `ps`, the TTY handle below throws, and that throw cost 0.1 ms.
  if (!isTerminal(fd)) return undefined;
  try {
    // The same binding's TTY handle reads the size with one ioctl; process.stdout's `columns`
    // would build the whole stream first.
    const binding = (process as unknown as { binding(name: string): { TTY: new (fd: number, ctx: object) => { getWindowSize(out: number[]): boolean } } }).binding("tty_wrap");
    const size = [0, 0];
    if (new binding.TTY(fd, {}).getWindowSize(size) && (size[0] ?? 0) > 0) return size[0];
  } catch {
    // A runtime without the binding: the stream's own answer decides.
  }
  const columns = (fd === 1 ? process.stdout : process.stderr).columns;
  return columns > 0 ? columns : undefined;
}

const widthCache: Partial<Record<Stream, number | null>> = {};

/**
 * How wide output on `stream` may be: $COLUMNS when it is a positive whole number (a person
 * asked for that width, piped or not), else the terminal's width, else undefined: output
 * that goes to a file or a pipe is for programs, and gets every value in full.
 */
export function outputWidth(stream: Stream): number | undefined {
  if (!(stream in widthCache)) {
    const env = process.env.COLUMNS;
    // Number() rather than a regular expression: compiling one costs at start-up.
    const asked = env === undefined || env.trim() !== env ? Number.NaN : Number(env);
    const fromEnv = Number.isInteger(asked) && asked > 0 && asked < 100_000 ? asked : undefined;
    widthCache[stream] = fromEnv ?? windowColumns(FD[stream]) ?? null;
  }
  return widthCache[stream] ?? undefined;
}

/** `text` cut to `width` characters, its last one an ellipsis when something was cut. */
export function truncate(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? "\u2026".slice(0, width) : `${text.slice(0, width - 1)}\u2026`;
}

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (word === "") continue;
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "" || lines.length === 0) lines.push(line);
  return lines;
}

const colorCache: Partial<Record<Stream, boolean>> = {};
export function useColor(stream: Stream): boolean {
  colorCache[stream] ??= !process.env.NO_COLOR && process.env.TERM !== "dumb" && isTerminal(FD[stream]);
  return colorCache[stream];
}

const ANSI = /\u001b\[[0-9;]*m/g;
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

export const COLORS = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Color = keyof typeof COLORS;

export function paint(stream: Stream, color: Color, text: string): string {
  if (!useColor(stream)) return text;
  const reset = color === "bold" ? 22 : 39;
  return `\u001b[${COLORS[color]}m${text}\u001b[${reset}m`;
}

/** One line (or block) of result on stdout. */
export function print(text: string): void {
  console.log(text.endsWith("\n") ? text.slice(0, -1) : text);
}

const NEWLINE = new Uint8Array([10]);

/**
 * A document's bytes on stdout as received, with a newline: a large answer is passed through
 * without being decoded and encoded again.
 */
export async function printBytes(bytes: Uint8Array): Promise<void> {
  await Bun.write(Bun.stdout, bytes);
  await Bun.write(Bun.stdout, NEWLINE);
}

/** Text for people on stderr (usage, hints). */
export function printErr(text: string): void {
  console.error(text.endsWith("\n") ? text.slice(0, -1) : text);
}

const PREFIX: Partial<Record<LogObject["type"], [string, Color]>> = {
  error: ["error:", "red"],
  fatal: ["error:", "red"],
  warn: ["warning:", "yellow"],
};

let consola: ConsolaInstance | undefined;

/**
 * Messages for people on stderr; never anything a script parses. Built on first use (most
 * runs print none), and synchronous, so a message is out before the process exits.
 */
export function logger(): ConsolaInstance {
  if (!consola) {
    consola = createConsola({
      level: 3,
      throttle: 0,
      reporters: [
        {
          log(entry) {
            const [label, color] = PREFIX[entry.type] ?? ["", "gray"];
            const text = entry.args.map(String).join(" ");
            printErr(label ? `${paint("stderr", color, `ve: ${label}`)} ${text}` : text);
          },
        },
      ],
    });
  }
  return consola;
}

export function printError(error: VeError, json: boolean): void {
  if (json) {
    print(JSON.stringify(error.toBody()));
    return;
  }
  logger().error(error.message);
  const tail = (error.details as { log_tail?: unknown } | undefined)?.log_tail;
  if (Array.isArray(tail) && tail.length > 0) {
    printErr(paint("stderr", "gray", "  last lines of the daemon log:"));
    printErr(tail.map((line) => `    ${line}`).join("\n"));
  }
}

/** Colours a cell after its padding is decided; widths are measured on plain text. */
export type CellPainter = (row: number, column: number, text: string) => string;

/** Columns padded to their widest cell; no trailing spaces. The header is bold on a terminal. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], paintCell?: CellPainter): string {
  const widths = header.map((h) => h.length);
  for (const row of rows) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i] ?? 0, (row[i] ?? "").length);
  }
  const line = (cells: readonly string[], paintText: (column: number, text: string) => string) => {
    let out = "";
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i] ?? "";
      out += paintText(i, cell);
      if (i < cells.length - 1) out += " ".repeat((widths[i] ?? 0) - cell.length + 2);
    }
    return out;
  };
  const lines = [line(header, (_, text) => paint("stdout", "bold", text))];
  rows.forEach((row, r) => lines.push(line(row, paintCell ? (c, text) => paintCell(r, c, text) : (_, text) => text)));
  return lines.join("\n");
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
