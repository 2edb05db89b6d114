// Reading the daemon log for `ve orch logs`, including across a rotation. Light on purpose:
// the CLI imports it.
import { type Stats, closeSync, fstatSync, lstatSync, readSync } from "node:fs";
import { checkStateFile, openStateFile } from "../project/safe-files.ts";

const FOLLOW_POLL_MS = 200;

/** The log file's metadata; undefined when absent. A link or another user's file is refused, never read. */
function infoOf(path: string): Stats | undefined {
  checkStateFile(path);
  return lstatSync(path, { throwIfNoEntry: false });
}

function readFrom(path: string, start: number, maxBytes = Number.POSITIVE_INFINITY): { text: string; end: number } {
  const fd = openStateFile(path, "read");
  if (fd === undefined) return { text: "", end: 0 };
  try {
    const size = fstatSync(fd).size;
    const from = Math.max(start, size - maxBytes);
    const buffer = Buffer.alloc(Math.max(0, size - from));
    readSync(fd, buffer, 0, buffer.length, from);
    return { text: buffer.toString("utf8"), end: size };
  } finally {
    closeSync(fd);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

/**
 * The last `count` whole lines of one file (fewer if it has fewer). The read window grows
 * until it holds them: a window that starts mid-line must not yield a fragment.
 */
function tailOf(file: string, count: number): string[] {
  if (!infoOf(file)) return [];
  for (let window = count * 256 + 4096; ; window *= 4) {
    const { text, end } = readFrom(file, 0, window);
    const whole = window >= end ? lines(text) : lines(text.slice(text.indexOf("\n") + 1));
    if (whole.length >= count || window >= end) return whole.slice(-count);
  }
}

/** The last `count` lines of the log, reaching into the rotated file when the current one is short. */
export function lastLines(path: string, count: number): string[] {
  if (count === 0) return [];
  const current = tailOf(path, count);
  if (current.length >= count) return current;
  return [...tailOf(`${path}.1`, count - current.length), ...current];
}

/** Calls `onLine` for each line appended after now, following rotation, until `signal` aborts. */
export async function followLog(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  const first = infoOf(path);
  let offset = first?.size ?? 0;
  let inode = first?.ino ?? 0;
  let partial = "";
  const deliver = (text: string) => {
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) if (line !== "") onLine(line);
  };
  while (!signal.aborted) {
    const info = infoOf(path);
    if (info) {
      if (info.ino !== inode || info.size < offset) {
        // Rotated since the last poll: what was written before the rotation and not yet read
        // is at the end of the rotated copy.
        const rotated = `${path}.1`;
        if (offset > 0 && (infoOf(rotated)?.size ?? 0) > offset) deliver(readFrom(rotated, offset).text);
        inode = info.ino;
        offset = 0;
      }
      if (info.size > offset) {
        const { text, end } = readFrom(path, offset);
        offset = end;
        deliver(text);
      }
    }
    await sleep(FOLLOW_POLL_MS, signal);
  }
}
