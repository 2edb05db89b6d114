// Daemons in temporary projects: start, stop, read their memory, and seed them with units,
// either through the API (POST /work-units, many at once) or, as a documented shortcut, by
// stopping the daemon and inserting rows with bun:sqlite in one transaction.
import { Database } from "bun:sqlite";
import { lstatSync, mkdtempSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VE } from "./config.ts";
import { alive, cmdline, own, ownDir } from "./cleanup.ts";
import { runLoad, unitName } from "./load.ts";
import { benchEnv, timeOnce, waitUntil } from "./measure.ts";

/** A fresh, real (symlink-free) project directory, removed when the harness ends. */
export function tempDir(label: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `ve-bench-${label}-`)));
  ownDir(dir);
  return dir;
}

/** Resident set size of a process in kB, from /proc/<pid>/status (VmRSS). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

function exists(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

interface StartJson {
  already_running: boolean;
  daemon: { pid: number; socket: string | null; transport: string };
}

export class Daemon {
  pid = 0;
  socket = "";
  /** Units known to be in the database (those this harness created). */
  units = 0;
  private release: (() => void) | undefined;

  /** `env`: added to the environment of `ve orch start`/`stop`, so the daemon inherits it. */
  constructor(
    readonly dir: string,
    readonly env: Record<string, string> = {},
  ) {}

  static async start(label: string): Promise<Daemon> {
    const daemon = new Daemon(tempDir(label));
    await daemon.start();
    return daemon;
  }

  /** `ve orch start`; returns its wall time in ms (until the daemon answered). */
  async start(): Promise<number> {
    // Registered before the start, so a daemon that comes up after a failed start is still stopped.
    this.release ??= own({ close: async () => void (await this.stop()), kill: () => this.kill() });
    const run = timeOnce({ name: "ve orch start", cmd: [VE, "orch", "start", "--json", "--project-dir", this.dir], env: benchEnv(this.env) });
    const doc = JSON.parse(run.stdout) as StartJson;
    if (doc.already_running) throw new Error(`a daemon already ran in ${this.dir}`);
    if (doc.daemon.transport !== "unix" || !doc.daemon.socket) throw new Error(`the daemon in ${this.dir} did not listen on a Unix socket`);
    this.pid = doc.daemon.pid;
    this.socket = doc.daemon.socket;
    return run.ms;
  }

  /**
   * `ve orch stop`; returns the wall time in ms from spawning it until it has exited and the
   * socket file is gone. Then also waits for the daemon process to be gone (not timed).
   */
  async stop(): Promise<number> {
    const start = performance.now();
    // Also without a known pid: a start that failed half-way may still have left a daemon.
    timeOnce({ name: "ve orch stop", cmd: [VE, "orch", "stop", "--json", "--project-dir", this.dir], env: benchEnv(this.env), timeoutMs: 60_000 });
    if (this.socket) await waitUntil(`the socket of ${this.dir} to go`, () => !exists(this.socket), 10_000, 1);
    const ms = performance.now() - start;
    const pid = this.pid;
    if (pid) await waitUntil(`daemon ${pid} to exit`, () => !alive(pid), 10_000, 1);
    this.pid = 0;
    return ms;
  }

  /** Stops the daemon and forgets it (cleanup will not touch it again). */
  async dispose(): Promise<void> {
    try {
      await this.stop();
    } finally {
      this.release?.();
      this.release = undefined;
    }
  }

  /** SIGKILL, only if the pid is still this project's daemon. */
  kill(): void {
    let pid = this.pid;
    if (!pid) {
      try {
        pid = Number(readFileSync(join(this.dir, ".ve/orchestrator.pid"), "utf8").trim());
      } catch {
        return;
      }
    }
    const argv = pid ? cmdline(pid) : undefined;
    if (pid && argv?.includes("__daemon") && argv.includes(this.dir)) process.kill(pid, "SIGKILL");
    this.pid = 0;
  }

  rssKb(): number {
    return rssKb(this.pid);
  }

  async get(path: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`http://localhost${path}`, { unix: this.socket });
    return { status: res.status, text: await res.text() };
  }

  /** Creates units `units .. target-1` through POST /work-units, `concurrency` at a time. */
  async seedApi(target: number, concurrency: number): Promise<void> {
    if (target <= this.units) return;
    const result = await runLoad({
      socket: this.socket,
      method: "POST",
      create: { start: this.units },
      requests: target - this.units,
      concurrency,
      warmup: 0,
      expectStatus: 201,
    });
    if (result.errors > 0) throw new Error(`seeding ${this.dir}: ${result.errors} creates failed (${result.firstError})`);
    this.units = target;
  }

  /**
   * The shortcut for large counts: stop the daemon, insert the rows `store.create` would
   * write (the unit and its "created" status-log entry) in one transaction with bun:sqlite,
   * start the daemon again. The schema is the daemon's own (it created the database).
   */
  async seedSqlite(target: number): Promise<void> {
    if (target <= this.units) return;
    await this.stop();
    const db = new Database(join(this.dir, ".ve/orchestrator.db"), { strict: true });
    try {
      db.run("PRAGMA busy_timeout = 5000");
      db.run("PRAGMA journal_mode = WAL");
      db.run("PRAGMA synchronous = NORMAL");
      db.run("PRAGMA foreign_keys = ON");
      const unit = db.query(
        "INSERT INTO work_units (chunk, phase, status, worktree, created_at, updated_at) VALUES (?, 'GOAL', 'READY', NULL, ?, ?)",
      );
      const log = db.query(
        "INSERT INTO status_log (chunk, old_status, new_status, old_phase, new_phase, reason, forced, timestamp) " +
          "VALUES (?, NULL, 'READY', NULL, 'GOAL', 'created', 0, ?)",
      );
      const base = Date.now() - (target - this.units);
      db.transaction(() => {
        for (let i = this.units; i < target; i++) {
          const at = new Date(base + (i - this.units)).toISOString();
          unit.run(unitName(i), at, at);
          log.run(unitName(i), at);
        }
      }).immediate();
      db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    } finally {
      db.close();
    }
    this.units = target;
    await this.start();
  }
}
