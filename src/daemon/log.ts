// The daemon log: one timestamped line per event, rotated by size. A detached daemon's stdout
// and stderr are the log file too (the CLI opened it for the child, in append mode), so a
// crash message that bypasses the logger still lands in it. Rotation copies the file aside
// and truncates it in place ("copytruncate"): every handle on it, the logger's and the
// daemon's stdout and stderr, keeps writing to the current log.
import { type ConsolaInstance, type LogObject, createConsola } from "consola/core";
import { closeSync, copyFileSync, fstatSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { PRIVATE_FILE_MODE } from "../project/state-dir.ts";

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

function openAppend(path: string): number {
  return openSync(path, "a", PRIVATE_FILE_MODE);
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
  let fd = openAppend(path);
  let size = fstatSync(fd).size;

  const rotate = () => {
    copyFileSync(path, `${path}.1`);
    ftruncateSync(fd, 0);
    size = 0;
  };

  const write = (line: string) => {
    if (size > 0 && size + Buffer.byteLength(line) > maxBytes) {
      try {
        rotate();
      } catch {
        // A log that cannot rotate keeps growing rather than losing lines.
      }
    }
    size += writeSync(fd, line);
    if (options.echo) writeSync(2, line);
  };

  const logger = createConsola({
    level: 4,
    throttle: 0,
    reporters: [{ log: (entry) => write(formatLogLine(entry)) }],
  });
  return {
    logger,
    close() {
      closeSync(fd);
    },
  };
}
