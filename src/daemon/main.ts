// The daemon process as a composition root: each part is a service, started here in dependency
// order and stopped by runServices exactly once, last first, on every exit path. Loaded only by
// the hidden daemon command and `start --foreground` (dynamic import), never on the CLI's
// request path.
import { appendFileSync, existsSync } from "node:fs";
import { loadBackends } from "../agents/registry.ts";
import { type ProjectPaths, projectPaths } from "../project/paths.ts";
import { LOST_STATE_MARKER } from "../project/protocol.ts";
import { PRIVATE_FILE_MODE, ensureStateDir } from "../project/state-dir.ts";
import { compareFile } from "./file-identity.ts";
import { formatLogLine } from "./log.ts";
import { StateWatchService } from "./state-watch.ts";
import { raiseFdLimitForDaemon } from "./fd-guard.ts";
import { LockService, LogService, StoreService } from "./core-services.ts";
import { EngineService } from "./engine-service.ts";
import { ServerService } from "./server.ts";
import { Ending, type Reporter, runServices } from "./services.ts";

export { STOP_GRACE_MS } from "./server.ts";

export interface DaemonOptions {
  root: string;
  foreground: boolean;
  tcp: boolean;
  port?: number | undefined;
}

/** SIGTERM and SIGINT end the daemon; a detached daemon ignores SIGHUP (it has no terminal). */
function onSignals(ending: Ending, log: () => Reporter, foreground: boolean): void {
  process.on("SIGTERM", () => ending.request("SIGTERM received"));
  process.on("SIGINT", () => ending.request("SIGINT received"));
  if (!foreground) process.on("SIGHUP", () => log().info("SIGHUP ignored"));
}

export async function runDaemon(options: DaemonOptions): Promise<number> {
  // Nothing this process creates is ever readable by another user, with no window in between.
  process.umask(0o077);
  const paths = projectPaths(options.root);
  const ending = new Ending();
  const log = new LogService(paths, options.foreground);
  // Handlers first: a SIGTERM during start-up then stops what has started, in order.
  onSignals(ending, () => log.logger, options.foreground);

  // Before anything opens a descriptor; see fd-guard.ts.
  const fdLimit = raiseFdLimitForDaemon((message) => log.logger.warn(message));
  let watch: StateWatchService | undefined;
  const code = await runServices(
    async ({ add }) => {
      await add(log);
      const lock = await add(new LockService(paths, log.logger, options.foreground));
      const store = await add(new StoreService(paths, log.logger));
      const engine = await add(new EngineService(paths, store.store, log.logger, ending, await loadBackends()));
      const server = await add(new ServerService(paths, options, store.store, log.logger, fdLimit, engine.api));
      const files = () => [...lock.watched(), ...store.watched(), ...server.watched()];
      watch = await add(new StateWatchService(paths, files, ending, log.logger));
      // The binary starts with a JIT reluctant to compile (right for one-shot CLI runs), and so
      // does the daemon's start-up, which also runs once: compiling it cost the idle daemon its
      // JIT threads and ~1 MB (docs/performance.md). Serving for weeks wants the normal policy.
      Bun.unsafe.setJITPolicy(1);
      // What only start-up used (its garbage, the code of the migrations and the route set-up)
      // is given back now rather than carried while idle: ~1 MB. Bun.shrink, deprecated in the
      // pinned Bun but the only way to release unused code, is skipped should it go away.
      Bun.gc(true);
      Bun.shrink?.();
    },
    { ending, reporter: () => log.logger, echoRefusals: options.foreground },
  );
  if (watch?.lost) leaveNote(paths, log, watch.lost);
  return code;
}

/**
 * The log this daemon wrote went with its directory: the reason it ended is written to the log
 * at the path (a new `.ve/` if need be), where `start` and `ve orch logs` find it. Nothing is
 * written if the project itself is gone.
 */
function leaveNote(paths: ProjectPaths, log: LogService, lost: string): void {
  if (log.identity && compareFile(paths.log, log.identity) === "same") return;
  if (!existsSync(paths.root)) return;
  try {
    ensureStateDir(paths);
    const line = formatLogLine({
      date: new Date(),
      type: "error",
      args: [`ve daemon (pid ${process.pid}) ${LOST_STATE_MARKER}: ${lost}; it has stopped`],
    });
    appendFileSync(paths.log, line, { mode: PRIVATE_FILE_MODE });
  } catch {
    // Best effort: the daemon is ending either way.
  }
}
