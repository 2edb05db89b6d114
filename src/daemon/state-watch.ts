// Noticing that the ground went away: `.ve/` deleted under a running daemon (`git clean -fdx`
// does it, `.ve` being ignored), or its database, lock file or socket deleted or replaced. The
// daemon then cannot be reached or would write to files nobody reads again, and a second daemon
// may start beside it on fresh files: it ends, logging why.
//
// A cheap periodic stat, not fs.watch: inotify on `.ve/` would wake the daemon on every write
// to the database's WAL and to its own log, while a handful of lstat calls per interval costs
// microseconds and nothing when idle beyond the timer.
import type { ProjectPaths } from "../project/paths.ts";
import { LOST_STATE_MARKER } from "../project/protocol.ts";
import { type FileIdentity, compareFile, identityOf } from "./file-identity.ts";
import type { Ending, Reporter, Service } from "./services.ts";

export const STATE_CHECK_INTERVAL_MS = 1000;

export interface WatchedFile {
  /** How a person names it: "state directory", "database". */
  what: string;
  path: string;
  identity: FileIdentity;
}

export class StateWatchService implements Service {
  readonly name = "state watch";
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Why the daemon ended, if this service ended it. */
  lost: string | undefined;

  constructor(
    private readonly paths: ProjectPaths,
    private readonly files: () => WatchedFile[],
    private readonly ending: Ending,
    private readonly log: Reporter,
    private readonly intervalMs = STATE_CHECK_INTERVAL_MS,
  ) {}

  start(): void {
    const stateDir = identityOf(this.paths.stateDir);
    const watched = [...(stateDir ? [{ what: "state directory", path: this.paths.stateDir, identity: stateDir }] : []), ...this.files()];
    this.#timer = setInterval(() => this.check(watched), this.intervalMs);
    // The server keeps the process alive; this timer alone must not.
    this.#timer.unref();
  }

  private check(watched: WatchedFile[]): void {
    if (this.lost) return;
    for (const file of watched) {
      const state = compareFile(file.path, file.identity);
      if (state === "same") continue;
      const hint = file.path.startsWith(`${this.paths.stateDir}/`) || file.path === this.paths.stateDir ? " (`git clean -x` deletes .ve/)" : "";
      this.lost = `its ${file.what} ${file.path} was ${state === "missing" ? "deleted" : "replaced"} while it ran${hint}`;
      this.log.error(`ve daemon (pid ${process.pid}) ${LOST_STATE_MARKER}: ${this.lost}`);
      this.ending.request(`${file.what} ${state === "missing" ? "deleted" : "replaced"}`, 1);
      return;
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
