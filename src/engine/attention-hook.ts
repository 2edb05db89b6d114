// `on_attention`: a command a person configures to hear of each unit that starts needing them
// (a desktop notification, a chat message). Run with /bin/sh -c in its own process group, the
// attention record as JSON on stdin, ended at on_attention_timeout_s; what goes wrong is
// logged and never reaches the engine, which does not wait for it.
import type { WorkUnitChange } from "../models/index.ts";
import type { Store } from "../state/store.ts";
import { type ConfigValue, configValue } from "./config.ts";
import { type AgentProcess, endProcessGroup, startProcess } from "./process-group.ts";

/** SIGTERM to SIGKILL for a hook past its timeout or still running when the daemon stops. */
export const HOOK_TERM_GRACE_MS = 1000;
/** Hooks running at once; more wait their turn (a burst of failures must not fork a hundred shells). */
export const HOOKS_AT_ONCE = 4;
/** Hooks waiting their turn; past this the newest are dropped, with a line in the log. */
export const HOOK_QUEUE_MAX = 256;
/** Lines of a failing hook's output kept for the log. */
const HOOK_TAIL_LINES = 5;

export interface HookReporter {
  info(message: string): void;
  warn(message: string): void;
}

export interface AttentionHookOptions {
  store: Store;
  config: () => ReadonlyMap<string, ConfigValue>;
  projectDir: string;
  log: HookReporter;
}

/** What the command reads on stdin: the record, with the unit and project it belongs to. */
export interface HookPayload {
  chunk: string;
  phase: string;
  project: string;
  kind: string;
  reason: string;
  question: string | null;
  options: string[];
  since: string;
  run_id: string | null;
}

export class AttentionHook {
  /** The record last announced per unit, so one record is announced once. */
  private readonly announced = new Map<string, string>();
  private readonly queue: { command: string; payload: HookPayload }[] = [];
  private readonly running = new Map<AgentProcess, Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: AttentionHookOptions) {}

  /** Listens to the change feed: only a unit moving into NEEDS_ATTENTION from now on counts. */
  start(): void {
    this.unsubscribe = this.options.store.onChange((changes) => this.onChanges(changes));
  }

  /** Stops listening and ends the hooks still running (the kill ladder); queued ones are dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.queue.length = 0;
    await Promise.all(
      [...this.running].map(async ([proc, done]) => {
        await endProcessGroup(proc, { termGraceMs: HOOK_TERM_GRACE_MS });
        await done;
      }),
    );
  }

  private onChanges(changes: readonly WorkUnitChange[]): void {
    for (const change of changes) {
      if (change.kind === "deleted") {
        this.announced.delete(change.chunk);
        continue;
      }
      if (change.new_status !== "NEEDS_ATTENTION" || change.old_status === "NEEDS_ATTENTION") continue;
      try {
        this.consider(change.chunk);
      } catch (error) {
        this.options.log.warn(`on_attention for '${change.chunk}' was not run: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private consider(chunk: string): void {
    const unit = this.options.store.get(chunk);
    const record = unit.attention;
    // A unit set NEEDS_ATTENTION by a person has no record: the person knows already.
    if (unit.status !== "NEEDS_ATTENTION" || record === null) return;
    const key = `${record.since}\u0000${record.run_id ?? ""}\u0000${record.kind}`;
    if (this.announced.get(chunk) === key) return;
    this.announced.set(chunk, key);
    const command = configValue<string | null>(this.options.config(), "on_attention");
    if (command === null || command.trim() === "") return;
    const payload: HookPayload = {
      chunk,
      phase: unit.phase,
      project: this.options.projectDir,
      kind: record.kind,
      reason: record.reason,
      question: record.question ?? null,
      options: record.options ?? [],
      since: record.since,
      run_id: record.run_id,
    };
    if (this.running.size < HOOKS_AT_ONCE) this.launch(command, payload);
    else if (this.queue.length < HOOK_QUEUE_MAX) this.queue.push({ command, payload });
    else this.options.log.warn(`on_attention for '${chunk}' was dropped: ${HOOK_QUEUE_MAX} hooks already wait to run`);
  }

  private launch(command: string, payload: HookPayload): void {
    const { chunk } = payload;
    const timeoutS = configValue<number>(this.options.config(), "on_attention_timeout_s");
    const tail: string[] = [];
    let proc: AgentProcess;
    try {
      proc = startProcess({
        argv: ["/bin/sh", "-c", command],
        cwd: this.options.projectDir,
        env: {
          ...(process.env as Record<string, string>),
          VE_PROJECT_DIR: this.options.projectDir,
          VE_CHUNK: chunk,
          VE_PHASE: payload.phase,
          VE_ATTENTION_KIND: payload.kind,
        },
        stdin: `${JSON.stringify(payload)}\n`,
        onLine: (stream, line) => {
          tail.push(stream === "stderr" ? `stderr: ${line}` : line);
          if (tail.length > HOOK_TAIL_LINES) tail.shift();
        },
      });
    } catch (error) {
      this.options.log.warn(`on_attention for '${chunk}' could not start: ${error instanceof Error ? error.message : String(error)}`);
      this.next();
      return;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void endProcessGroup(proc, { termGraceMs: HOOK_TERM_GRACE_MS });
    }, timeoutS * 1000);
    const done = proc.done
      .then((exit) => {
        clearTimeout(timer);
        const output = tail.length > 0 ? `; its last lines:\n${tail.join("\n")}` : "";
        if (timedOut) {
          this.options.log.warn(`on_attention for '${chunk}' ran longer than on_attention_timeout_s (${timeoutS} s) and was ended${output}`);
        } else if (exit.code !== 0) {
          const how = exit.code === null ? `was ended by ${exit.signal ?? "a signal"}` : `exited with status ${exit.code}`;
          this.options.log.warn(`on_attention for '${chunk}' ${how}${output}`);
        } else {
          this.options.log.info(`on_attention ran for '${chunk}' (${payload.kind})`);
        }
      })
      .catch((error) => this.options.log.warn(`on_attention for '${chunk}' failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        this.running.delete(proc);
        this.next();
      });
    this.running.set(proc, done);
  }

  private next(): void {
    if (this.stopped) return;
    const queued = this.queue.shift();
    if (queued) this.launch(queued.command, queued.payload);
  }
}
