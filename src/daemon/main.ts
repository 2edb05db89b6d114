// The daemon process: lock, state, server, and an orderly end. Loaded only by the hidden
// daemon command and `start --foreground` (dynamic import), never on the CLI's request path.
import { chmodSync, renameSync, writeFileSync } from "node:fs";
import type { Server } from "bun";
import { type AppInfo, type AppOptions, createApp } from "../api/app.ts";
import { VeError } from "../errors.ts";
import { type ProjectPaths, projectPaths } from "../project/paths.ts";
import { PRIVATE_FILE_MODE, ensurePrivateDir, ensureStateDir } from "../project/state-dir.ts";
import { Store } from "../state/store.ts";
import { VERSION } from "../version.ts";
import { removeTransportFiles } from "../project/transport-files.ts";
import { EXIT_ANOTHER_DAEMON } from "../project/protocol.ts";
import { acquireLock, readPid } from "../project/lock.ts";
import { openDaemonLog } from "./log.ts";

/** How long in-flight requests may take to finish once a stop is asked for. */
export const STOP_GRACE_MS = 5000;

export interface DaemonOptions {
  root: string;
  foreground: boolean;
  tcp: boolean;
  port?: number | undefined;
}

/** 256 random bits, hex: what a TCP client must send as its bearer token. */
function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function writePrivateFile(path: string, content: string): void {
  // Written aside and renamed, so a reader never sees a half-written port or token.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: PRIVATE_FILE_MODE });
  renameSync(tmp, path);
}

function listenUnix(paths: ProjectPaths, fetch: (request: Request) => Response | Promise<Response>): Server<undefined> {
  if (paths.socketInRuntimeDir) ensurePrivateDir(paths.socket.slice(0, paths.socket.lastIndexOf("/")));
  // bun-types rejects idleTimeout beside `unix`, but the server honours it; without it a
  // request slower than the 10 s default is cut.
  // @ts-expect-error see above
  const server = Bun.serve({ unix: paths.socket, fetch, idleTimeout: 0 });
  chmodSync(paths.socket, PRIVATE_FILE_MODE);
  return server;
}

function listenTcp(
  paths: ProjectPaths,
  port: number,
  fetch: (request: Request) => Response | Promise<Response>,
): Server<undefined> {
  const server = Bun.serve({ hostname: "127.0.0.1", port, idleTimeout: 0, fetch });
  writePrivateFile(paths.port, `${server.port}\n`);
  return server;
}

export async function runDaemon(options: DaemonOptions): Promise<number> {
  // The binary starts with a JIT reluctant to compile (right for one-shot CLI runs); a daemon
  // runs for weeks and wants the normal policy.
  Bun.unsafe.setJITPolicy(1);
  // Nothing this process creates is ever readable by another user, with no window in between.
  process.umask(0o077);
  const paths = projectPaths(options.root);
  ensureStateDir(paths);
  const { logger: log, close: closeLog } = openDaemonLog(paths.log, { echo: options.foreground });

  const lock = await acquireLock(paths.pid);
  if (!lock) {
    const holder = readPid(paths.pid);
    const message = `another ve daemon${holder ? ` (pid ${holder})` : ""} already runs for ${paths.root}`;
    if (options.foreground) {
      process.stderr.write(`ve: ${message}; stop it first with \`ve orch stop\`.\n`);
      return 1;
    }
    log.info(`${message}; this one (pid ${process.pid}) exits`);
    return EXIT_ANOTHER_DAEMON;
  }
  lock.writePid(process.pid);
  log.info(`starting ve ${VERSION} (pid ${process.pid}) for ${paths.root}`);

  const dropTransportFiles = () => {
    for (const [file, reason] of removeTransportFiles(paths).failed) log.warn(`cannot remove ${file}: ${reason}`);
  };

  let store: Store;
  try {
    store = Store.open(paths.db, { check: true, exclusive: true });
  } catch (error) {
    const message = error instanceof VeError ? error.message : `cannot open the database: ${String(error)}`;
    log.error(message);
    if (options.foreground) process.stderr.write(`ve: ${message}\n`);
    lock.release();
    closeLog();
    return 1;
  }
  if (store.appliedMigrations.length > 0) log.info(`database migrated to version ${store.appliedMigrations.at(-1)}`);

  // We hold the lock, so any socket, port or token file left here belongs to a dead daemon.
  dropTransportFiles();
  // The server starts with a handler that forwards to the app, which is built once the
  // address is known; both happen in one tick, before any request can arrive.
  let handle: (request: Request) => Response | Promise<Response> = () => new Response(null, { status: 503 });
  const fetch = (request: Request) => handle(request);
  const info: AppInfo = {
    pid: process.pid,
    version: VERSION,
    startedAt: new Date(),
    projectDir: paths.root,
    transport: "unix",
    socket: paths.socket,
    port: null,
  };
  const appOptions: AppOptions = { logError: (message) => log.error(message) };

  let server: Server<undefined> | undefined;
  if (!options.tcp) {
    try {
      server = listenUnix(paths, fetch);
    } catch (error) {
      log.warn(`cannot listen on ${paths.socket} (${(error as Error).message}); falling back to TCP on 127.0.0.1`);
    }
  }
  if (!server) {
    appOptions.token = newToken();
    writePrivateFile(paths.token, `${appOptions.token}\n`);
    try {
      server = listenTcp(paths, options.port ?? 0, fetch);
    } catch (error) {
      const message = `cannot listen on 127.0.0.1:${options.port ?? 0} (${(error as Error).message}); choose another --port`;
      log.error(message);
      if (options.foreground) process.stderr.write(`ve: ${message}\n`);
      dropTransportFiles();
      store.close();
      lock.release();
      closeLog();
      return 1;
    }
    Object.assign(info, { transport: "tcp", socket: null, port: server.port ?? null });
  }
  // fetch, not handle: handle is an async wrapper around it, one more promise per request.
  handle = createApp(store, info, appOptions).fetch;
  const listening = server;
  log.info(
    info.transport === "unix" ? `listening on ${info.socket}` : `listening on 127.0.0.1:${info.port} (token in ${paths.token})`,
  );

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal} received; stopping`);
      const graceful = listening.stop(false);
      const timedOut = await Promise.race([
        graceful.then(() => false),
        Bun.sleep(STOP_GRACE_MS).then(() => true),
      ]);
      if (timedOut) {
        log.warn(`requests still running after ${STOP_GRACE_MS} ms; closing them`);
        await listening.stop(true);
      }
      try {
        store.close();
      } catch (error) {
        log.error(`closing the database failed: ${(error as Error).message}`);
      }
      dropTransportFiles();
      log.info("stopped");
      lock.release();
      closeLog();
      resolve(0);
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
    // A detached daemon has no terminal; a stray SIGHUP must not end it.
    if (!options.foreground) process.on("SIGHUP", () => log.info("SIGHUP ignored"));
  });
}
