// Shared helpers of the store tests: a fresh database per test, raw views of the tables, and
// an assertion that a call fails with a given VeError code.
import { afterEach, expect } from "bun:test";
import { join } from "node:path";
import type { ErrorCode } from "../../src/errors.ts";
import { VeError } from "../../src/errors.ts";
import { Store, type StoreOptions } from "../../src/state/store.ts";
import { thrownVeError } from "../helpers/errors.ts";

export const BUN = process.execPath;
export const FIXTURES = join(import.meta.dir, "fixtures");
export const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export { useStores } from "../helpers/stores.ts";

/** Runs `fn`, which must throw a VeError with `code`; returns the error for further checks. */
export function expectVeError(fn: () => unknown, code: ErrorCode): VeError {
  const thrown = thrownVeError(fn);
  expect(thrown.code).toBe(code);
  return thrown;
}

export interface RawLogRow {
  id: number;
  chunk: string;
  old_status: string | null;
  new_status: string;
  old_phase: string | null;
  new_phase: string | null;
  reason: string | null;
  forced: number;
  timestamp: string;
}

export function logRows(store: Store, chunk?: string): RawLogRow[] {
  return (
    chunk === undefined
      ? store.db.query("SELECT * FROM status_log ORDER BY id").all()
      : store.db.query("SELECT * FROM status_log WHERE chunk = ? ORDER BY id").all(chunk)
  ) as RawLogRow[];
}

export function count(store: Store, table: "work_units" | "status_log" | "work_unit_blockers"): number {
  return (store.db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

/** Everything the store persists, to show that a refused call wrote nothing. */
export function snapshot(store: Store): unknown {
  return {
    units: store.db.query("SELECT * FROM work_units ORDER BY rowid").all(),
    blockers: store.db.query("SELECT * FROM work_unit_blockers ORDER BY id").all(),
    log: store.db.query("SELECT * FROM status_log ORDER BY id").all(),
  };
}

/** A child process of a test, with its stdout read line by line. */
export interface Child {
  proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  lines: Lines;
  /** Resolves to everything the child wrote on stderr (read concurrently, so pipes never fill). */
  stderr: Promise<string>;
}

/**
 * Call at the top level of a test file. Returns `spawn(script, ...args)`, which runs a fixture
 * script under this Bun; every child still alive after a test (passed or failed) is killed.
 */
export function useChildren(): (script: string, ...args: string[]) => Child {
  const live: Child[] = [];
  afterEach(async () => {
    for (const child of live.splice(0)) {
      if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill("SIGKILL");
      await child.proc.exited;
    }
  });
  return (script, ...args) => {
    const proc = Bun.spawn([BUN, join(FIXTURES, script), ...args], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const child: Child = { proc, lines: new Lines(proc.stdout), stderr: new Response(proc.stderr).text() };
    live.push(child);
    return child;
  };
}

/** Tells a child waiting at its start barrier (see fixtures/barrier.ts) to go. */
export function release(child: Child): void {
  child.proc.stdin.write("go\n");
  child.proc.stdin.flush();
}

export class Lines {
  private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> };
  private readonly decoder = new TextDecoder();
  private buffer = "";
  private readonly queue: string[] = [];
  private ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  private async pull(): Promise<void> {
    const { value, done } = await this.reader.read();
    if (done) {
      this.ended = true;
      this.buffer += this.decoder.decode();
      if (this.buffer !== "") this.queue.push(this.buffer);
      this.buffer = "";
      return;
    }
    this.buffer += this.decoder.decode(value, { stream: true });
    const parts = this.buffer.split("\n");
    this.buffer = parts.pop() ?? "";
    this.queue.push(...parts);
  }

  /** The next complete line, or undefined once the stream has ended. */
  async next(): Promise<string | undefined> {
    while (this.queue.length === 0 && !this.ended) await this.pull();
    return this.queue.shift();
  }

  /** Every line not read yet, up to the end of the stream. */
  async rest(): Promise<string[]> {
    while (!this.ended) await this.pull();
    return this.queue.splice(0);
  }
}

/** Awaits the next line and checks it is `expected` (a child's handshake). */
export async function expectLine(child: Child, expected: string): Promise<void> {
  const line = await child.lines.next();
  if (line !== expected) {
    throw new Error(`child said ${JSON.stringify(line)} instead of ${JSON.stringify(expected)}; stderr: ${await child.stderr}`);
  }
}
