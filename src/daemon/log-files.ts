// Reading the daemon log for `ve orch logs`, including across a rotation. Light on purpose:
// the CLI imports it.
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";

const FOLLOW_POLL_MS = 200;

function readFrom(path: string, start: number, maxBytes = Number.POSITIVE_INFINITY): { text: string; end: number } {
  const fd = openSync(path, "r");
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

/** The last `count` lines of the log, reaching into the rotated file when the current one is short. */
export function lastLines(path: string, count: number): string[] {
  if (count === 0) return [];
  const tail = (file: string) => (existsSync(file) ? lines(readFrom(file, 0, count * 1024 + 65536).text) : []);
  const current = tail(path);
  if (current.length >= count) return current.slice(-count);
  return [...tail(`${path}.1`), ...current].slice(-count);
}

/** Calls `onLine` for each line appended after now, following rotation, until `signal` aborts. */
export async function followLog(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  let offset = existsSync(path) ? statSync(path).size : 0;
  let inode = existsSync(path) ? statSync(path).ino : 0;
  let partial = "";
  while (!signal.aborted) {
    if (existsSync(path)) {
      const info = statSync(path);
      if (info.ino !== inode || info.size < offset) {
        inode = info.ino;
        offset = 0;
      }
      if (info.size > offset) {
        const { text, end } = readFrom(path, offset);
        offset = end;
        const parts = (partial + text).split("\n");
        partial = parts.pop() ?? "";
        for (const line of parts) if (line !== "") onLine(line);
      }
    }
    await sleep(FOLLOW_POLL_MS, signal);
  }
}
