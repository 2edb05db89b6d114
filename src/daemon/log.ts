// The daemon log: one timestamped line per event, rotated by size. A detached daemon's stdout
// and stderr are the log file too (the CLI opened it for the child, in append mode), so a
// crash message that bypasses the logger still lands in it. Rotation copies the file aside
// and truncates it in place ("copytruncate"): every handle on it, the logger's and the
// daemon's stdout and stderr, keeps writing to the current log.
import { type ConsolaInstance, type LogObject, createConsola } from "consola/core";
import { closeSync, fstatSync, ftruncateSync, readSync, writeSync } from "node:fs";
import { VeError } from "../errors.ts";
import { openStateFile } from "../project/safe-files.ts";

export const LOG_MAX_BYTES = 5 * 1024 * 1024;

export interface DaemonLogOptions {
  /** Also write each line to stderr (foreground mode, where stderr is a terminal or journal). */
  echo: boolean;
  maxBytes?: number;
}

export interface DaemonLog {
  logger: ConsolaInstance;
  close(): void;
}

/** Never through a link: a committed `.ve/orchestrator.log` symlink must not get our lines. */
function openAppend(path: string): number {
  return openStateFile(path, "append");
}

/** Copies `from` over `to`, both opened without following links (`to` is checked before it is emptied). */
function copyFile(from: string, to: string): void {
  const source = openStateFile(from, "read");
  if (source === undefined) return;
  try {
    const target = openStateFile(to, "readwrite");
    try {
      ftruncateSync(target, 0);
      const buffer = Buffer.alloc(256 * 1024);
      for (let offset = 0; ; ) {
        const n = readSync(source, buffer, 0, buffer.length, offset);
        if (n <= 0) break;
        for (let done = 0; done < n; ) done += writeSync(target, buffer, done, n - done, offset + done);
        offset += n;
      }
    } finally {
      closeSync(target);
    }
  } finally {
    closeSync(source);
  }
}

/**
 * Writes to stderr synchronously and never throws: a detached daemon's stderr is the log file,
 * and process.stderr.write on a full disk ends the process with an asynchronous error.
 */
export function writeStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // Nowhere left to say it.
  }
}

export function formatLogLine(entry: Pick<LogObject, "date" | "type" | "args">): string {
  // Not node:util's format: loading node:util costs the daemon megabytes of resident memory.
  const text = entry.args
    .map((arg) => (typeof arg === "string" ? arg : arg instanceof Error ? (arg.stack ?? arg.message) : Bun.inspect(arg)))
    .join(" ")
    .replaceAll("\n", "\n    ");
  return `${entry.date.toISOString()} ${entry.type.toUpperCase().padEnd(5)} ${text}\n`;
}

export function openDaemonLog(path: string, options: DaemonLogOptions): DaemonLog {
  const maxBytes = options.maxBytes ?? LOG_MAX_BYTES;
  // A log that cannot even be opened (a full disk refusing a new file) falls back to stderr,
  // which a detached daemon has pointed at the same file by the CLI, or at the terminal.
  let fd: number | undefined;
  try {
    fd = openAppend(path);
  } catch (error) {
    // A log ve does not trust (a link, another user's file) is refused, not replaced by stderr.
    if (error instanceof VeError && error.code === "unsafe_path") throw error;
    fd = undefined;
  }
  let size = 0;
  try {
    if (fd !== undefined) size = fstatSync(fd).size;
  } catch {}
  /** Lines a full or failing disk refused since the last line that got through, and why. */
  let lost = 0;
  let lostBecause = "";

  const rotate = (target: number) => {
    copyFile(path, `${path}.1`);
    ftruncateSync(target, 0);
    size = 0;
  };

  const append = (target: number, line: string) => {
    if (target !== 2 && size > 0 && size + Buffer.byteLength(line) > maxBytes) {
      try {
        rotate(target);
      } catch {
        // A log that cannot rotate keeps growing rather than losing lines.
      }
    }
    const bytes = Buffer.from(line);
    let written = 0;
    // A short write (the disk filling up mid-line) is finished or fails on the next call.
    while (written < bytes.length) written += writeSync(target, bytes, written);
    size += written;
  };

  // Never throws: a line the disk refuses is counted and reported once the disk takes lines
  // again; a failed log write must not fail the request, the stop or the signal that logged.
  const write = (line: string) => {
    const target = fd ?? 2;
    try {
      if (lost > 0) {
        const note = `${new Date().toISOString()} WARN  ${lost} log line${lost === 1 ? " was" : "s were"} lost (${lostBecause})\n`;
        append(target, note);
        lost = 0;
      }
      append(target, line);
    } catch (error) {
      lost++;
      lostBecause = (error as NodeJS.ErrnoException).code ?? String(error);
    }
    if (options.echo && target !== 2) {
      try {
        writeSync(2, line);
      } catch {}
    }
  };

  const logger = createConsola({
    level: 4,
    throttle: 0,
    reporters: [{ log: (entry) => write(formatLogLine(entry)) }],
  });
  return {
    logger,
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
