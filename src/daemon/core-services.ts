// The daemon's base services: its log, its lock on the project, its store. Each is started by
// the composition in main.ts and stopped by runServices, in reverse order.
import type { ConsolaInstance } from "consola/core";
import { VeError } from "../errors.ts";
import type { ProjectPaths } from "../project/paths.ts";
import { EXIT_ANOTHER_DAEMON, storageExitCode } from "../project/protocol.ts";
import { type HeldLock, acquireLock, readPid } from "../project/lock.ts";
import { processStartTime } from "../platform/process.ts";
import { ensureStateDir } from "../project/state-dir.ts";
import { Store } from "../state/store.ts";
import { VERSION } from "../version.ts";
import { openDaemonLog, writeStderr } from "./log.ts";
import { type FileIdentity, compareFile, identityOf, identityOfFd } from "./file-identity.ts";
import { type Reporter, type Service, StartRefused } from "./services.ts";
import type { WatchedFile } from "./state-watch.ts";

export class LogService implements Service {
  readonly name = "log";
  #logger: ConsolaInstance | undefined;
  #close: (() => void) | undefined;

  constructor(
    private readonly paths: ProjectPaths,
    private readonly echo: boolean,
  ) {}

  start(): void {
    ensureStateDir(this.paths);
    const { logger, close } = openDaemonLog(this.paths.log, { echo: this.echo });
    this.#logger = logger;
    this.#close = close;
    this.identity = identityOf(this.paths.log);
  }

  /** The log file we write to, to tell whether the one at the path is still it. */
  identity: FileIdentity | undefined;

  /** The logger; before start (or after stop) lines go to stderr, which is the log for a detached daemon. */
  get logger(): Reporter {
    return this.#logger ?? stderrReporter;
  }

  stop(): void {
    this.#logger?.info("stopped");
    const close = this.#close;
    this.#logger = undefined;
    this.#close = undefined;
    close?.();
  }
}

export const stderrReporter: Reporter = {
  info: (message) => writeStderr(`${new Date().toISOString()} INFO  ${message}\n`),
  warn: (message) => writeStderr(`${new Date().toISOString()} WARN  ${message}\n`),
  error: (message) => writeStderr(`${new Date().toISOString()} ERROR ${message}\n`),
};

/** The flock on orchestrator.pid: the single-instance guarantee, held for the daemon's life. */
export class LockService implements Service {
  readonly name = "lock";
  #lock: HeldLock | undefined;

  constructor(
    private readonly paths: ProjectPaths,
    private readonly log: Reporter,
    private readonly foreground: boolean,
  ) {}

  async start(): Promise<void> {
    const lock = await acquireLock(this.paths.pid);
    if (!lock) {
      const holder = readPid(this.paths.pid);
      const message = `another ve daemon${holder ? ` (pid ${holder})` : ""} already runs for ${this.paths.root}`;
      // In the foreground the user asked for this daemon: a refusal is an error to them. A
      // detached loser of a start race exits quietly; the CLI reports the winner.
      if (this.foreground) throw new StartRefused(`${message}; stop it first with \`ve orch stop\`.`, 1);
      throw new StartRefused(`${message}; this one (pid ${process.pid}) exits`, EXIT_ANOTHER_DAEMON, "info");
    }
    lock.writePid(process.pid, processStartTime(process.pid));
    this.#lock = lock;
    this.log.info(`starting ve ${VERSION} (pid ${process.pid}) for ${this.paths.root}`);
  }

  /** The lock file as opened: a new daemon can lock a new file at this path if it is replaced. */
  watched(): WatchedFile[] {
    return this.#lock ? [{ what: "lock file", path: this.paths.pid, identity: identityOfFd(this.#lock.fd) }] : [];
  }

  get held(): HeldLock {
    if (!this.#lock) throw new Error("the lock service has not started");
    return this.#lock;
  }

  stop(): void {
    const lock = this.#lock;
    this.#lock = undefined;
    lock?.release();
  }
}

export class StoreService implements Service {
  readonly name = "store";
  #store: Store | undefined;
  #identity: FileIdentity | undefined;

  constructor(
    private readonly paths: ProjectPaths,
    private readonly log: Reporter,
  ) {}

  start(): void {
    try {
      this.#store = Store.open(this.paths.db, {
        check: true,
        exclusive: true,
        // A listener of the change feed that fails is a bug to find in the log; the write stands.
        onListenerError: (error) =>
          this.log.error(`a change listener failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
      });
    } catch (error) {
      if (error instanceof VeError) throw new StartRefused(error.message, storageExitCode(error.code));
      throw new StartRefused(`cannot open the database: ${String(error)}`);
    }
    this.#identity = identityOf(this.paths.db);
    const applied = this.#store.appliedMigrations;
    if (applied.length > 0) this.log.info(`database migrated to version ${applied.at(-1)}`);
    for (const note of this.#store.migrationNotes) this.log.warn(`database upgrade: ${note}`);
  }

  watched(): WatchedFile[] {
    return this.#identity ? [{ what: "database", path: this.paths.db, identity: this.#identity }] : [];
  }

  get store(): Store {
    if (!this.#store) throw new Error("the store service has not started");
    return this.#store;
  }

  stop(): void {
    const store = this.#store;
    this.#store = undefined;
    if (store && this.#identity && compareFile(this.paths.db, this.#identity) !== "same") {
      // SQLite deletes the -wal file by path on the last close: that would be another
      // database's now. The process ends right after; the kernel closes our descriptors.
      this.log.warn(`the database at ${this.paths.db} is not the one this daemon opened; leaving it unclosed`);
      return;
    }
    store?.close();
  }
}
