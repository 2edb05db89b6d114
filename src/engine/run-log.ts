// Each run's output, kept in `.ve/runs/<chunk>/<run-id>.jsonl`: every raw line the agent
// printed and every normalized event, one JSON object a line, in arrival order. Bounded in
// size: past RUN_LOG_MAX_BYTES the raw lines stop (one marker says so) while the events that
// decide the run (init, question, result) are still written. A log that cannot be written
// (disk full) never fails the run: the loss is counted and reported once.
import { closeSync, constants, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import type { AgentEvent } from "../agents/backend.ts";

export const RUN_LOG_MAX_BYTES = 8 * 1024 * 1024;
/** A single raw line is cut to this many characters in the log (its length is recorded). */
export const RUN_LOG_MAX_LINE_CHARS = 64 * 1024;

export type RunLogEntry =
  | { t: string; stream: "stdout" | "stderr"; raw: string; cut?: number }
  | { t: string; event: AgentEvent }
  | { t: string; truncated: true; limit_bytes: number }
  | { t: string; note: string };

export function runLogPath(stateDir: string, chunk: string, runId: string): string {
  return `${stateDir}/runs/${chunk}/${runId}.jsonl`;
}

const ALWAYS_KEPT: ReadonlySet<AgentEvent["type"]> = new Set(["init", "question", "result"]);

export class RunLog {
  private fd: number | undefined;
  private bytes = 0;
  private truncated = false;
  /** Entries that could not be written (disk full, directory gone). */
  lost = 0;

  constructor(
    readonly path: string,
    private readonly maxBytes = RUN_LOG_MAX_BYTES,
  ) {
    mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true, mode: 0o700 });
    // O_NOFOLLOW: a link planted in .ve/runs must not redirect the agent's output elsewhere.
    this.fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
  }

  private write(entry: RunLogEntry, essential: boolean): void {
    if (this.fd === undefined) return;
    const text = `${JSON.stringify(entry)}\n`;
    if (!essential && this.bytes + text.length > this.maxBytes) {
      if (!this.truncated) {
        this.truncated = true;
        this.write({ t: entry.t, truncated: true, limit_bytes: this.maxBytes }, true);
      }
      return;
    }
    try {
      this.bytes += writeSync(this.fd, text);
    } catch {
      this.lost++;
    }
  }

  raw(stream: "stdout" | "stderr", line: string, now = new Date()): void {
    const cut = line.length > RUN_LOG_MAX_LINE_CHARS ? line.length : undefined;
    const raw = cut === undefined ? line : line.slice(0, RUN_LOG_MAX_LINE_CHARS);
    this.write({ t: now.toISOString(), stream, raw, ...(cut === undefined ? {} : { cut }) }, false);
  }

  event(event: AgentEvent, now = new Date()): void {
    this.write({ t: now.toISOString(), event }, ALWAYS_KEPT.has(event.type));
  }

  note(note: string, now = new Date()): void {
    this.write({ t: now.toISOString(), note }, true);
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {}
    this.fd = undefined;
  }
}

/** The entries of a run log; a line cut short by a crash mid-write is skipped. */
export function readRunLog(path: string): RunLogEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const entries: RunLogEntry[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      entries.push(JSON.parse(line) as RunLogEntry);
    } catch {}
  }
  return entries;
}
