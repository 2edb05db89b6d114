// The API server service: the Unix socket (or TCP with a bearer token), the app over the store,
// and a bounded graceful stop.
import { chmodSync, lstatSync } from "node:fs";
import { type AppInfo, type AppOptions, createApp } from "../api/app.ts";
import { EngineApi } from "../engine/api.ts";
import { EventHub } from "../engine/events.ts";
import { EngineStore } from "../state/engine.ts";
import type { ProjectPaths } from "../project/paths.ts";
import { fileError, refused, writeFileAside } from "../project/safe-files.ts";
import { PRIVATE_FILE_MODE, ensurePrivateDir } from "../project/state-dir.ts";
import { removeTransportFiles } from "../project/transport-files.ts";
import type { Store } from "../state/store.ts";
import { VERSION, VERSION_HEADER } from "../version.ts";
import { errorResponse } from "../api/errors.ts";
import { pathOf } from "../api/request-path.ts";
import { type BunServeOptions, bunServeOptions } from "../api/serve-options.ts";
import { VeError } from "../errors.ts";
import { type FileIdentity, compareFile, identityOf, unlinkIfOurs } from "./file-identity.ts";
import { type Reporter, type Service, StartRefused } from "./services.ts";
import type { WatchedFile } from "./state-watch.ts";
import { FD_CHECK_INTERVAL_MS, ReservedDescriptors, openFdCount, sheddingThreshold } from "./fd-guard.ts";
import { type Fetch, Front, type FrontOptions, keepOpen } from "./front.ts";

/**
 * The rule for answers that last (issue 9 item 3): no timer cuts an answer, however long its
 * handler takes or its stream stays quiet; only a connection that has not delivered a complete
 * request within REQUEST_TIMEOUT_MS of opening (or of its previous answer) is closed (front.ts).
 * A route whose answer is a stream only the client ends (GET /events) is marked with
 * `keepOpen(request)`: written as it comes, and ended at once by a graceful stop instead of
 * holding it. A `Content-Type: text/event-stream` answer is treated so even unmarked. Code in
 * src/api imports it from src/daemon/front.ts (this module imports the app).
 */
export { keepOpen, REQUEST_TIMEOUT_MS } from "./front.ts";

/** How long in-flight requests may take to finish once a stop is asked for. */
export const STOP_GRACE_MS = 5000;

export interface ServerOptions {
  tcp: boolean;
  port?: number | undefined;
}


/** 256 random bits, hex: what a TCP client must send as its bearer token. */
function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function writePrivateFile(path: string, content: string): void {
  // Written aside and renamed, so a reader never sees a half-written port or token; never
  // through a link at either name.
  try {
    writeFileAside(path, content);
  } catch (error) {
    throw new StartRefused(fileError(error, path, "write").message);
  }
}

function listenUnix(paths: ProjectPaths, fetch: Fetch, serve: BunServeOptions): Front {
  // Before listening: the socket directory must be ours alone (a shared /tmp lets anyone
  // create `ve-<uid>` first), and nothing may be left at the socket's name (the lock holder
  // has removed a dead daemon's socket; what remains, such as a link, is not ours).
  if (paths.socketInRuntimeDir) ensurePrivateDir(paths.socket.slice(0, paths.socket.lastIndexOf("/")));
  const left = lstatSync(paths.socket, { throwIfNoEntry: false });
  if (left) {
    throw refused(
      paths.socket,
      `${left.isSymbolicLink() ? "a symbolic link" : "something that is not this daemon's socket"} is at the socket's name`,
      "remove it",
    );
  }
  const server = new Front({ unix: paths.socket }, frontOptions(fetch, serve));
  chmodSync(paths.socket, PRIVATE_FILE_MODE);
  return server;
}

function frontOptions(fetch: Fetch, serve: BunServeOptions): FrontOptions {
  return { fetch, error: serve.error };
}

function serveTcp(port: number, fetch: Fetch, serve: BunServeOptions): Front {
  // reusePort: a second listener can take over the port before the first closes (fd-guard.ts).
  return new Front({ hostname: "127.0.0.1", port, reusePort: true }, frontOptions(fetch, serve));
}

function listenTcp(paths: ProjectPaths, port: number, fetch: Fetch, serve: BunServeOptions): Front {
  const server = serveTcp(port, fetch, serve);
  writePrivateFile(paths.port, `${server.port}\n`);
  return server;
}

/** A request without the right token gets its 401 and the connection closed: nothing to keep it for. */
function closingUnauthorized(fetch: Fetch): Fetch {
  return async (request) => {
    const response = await fetch(request);
    if (response.status === 401 || response.status === 403) response.headers.set("connection", "close");
    return response;
  };
}

function stoppingResponse(paths: ProjectPaths): Response {
  return errorResponse(
    new VeError(
      "daemon_stopping",
      `The ve daemon (pid ${process.pid}) for ${paths.root} is stopping; run the command again after \`ve orch start\`.`,
      { pid: process.pid },
    ),
    { [VERSION_HEADER]: VERSION },
  );
}

export class ServerService implements Service {
  readonly name = "server";
  #server: Front | undefined;
  #info: AppInfo | undefined;
  #stopping = false;
  /** The socket, port and token files this daemon made, by identity: only those go at stop. */
  #own: { what: string; path: string; identity: FileIdentity }[] = [];

  #events: EventHub | undefined;
  #guard: ReturnType<typeof setInterval> | undefined;
  #reserve: ReservedDescriptors | undefined;

  constructor(
    private readonly paths: ProjectPaths,
    private readonly options: ServerOptions,
    private readonly store: Store,
    private readonly log: Reporter,
    /** The open-file soft limit in force, for the TCP descriptor guard. */
    private readonly fdLimit?: number | undefined,
    private readonly engine?: EngineApi,
  ) {}

  private dropTransportFiles(): void {
    for (const [file, reason] of removeTransportFiles(this.paths).failed) this.log.warn(`cannot remove ${file}: ${reason}`);
  }

  start(): void {
    const { paths, options, log } = this;
    // We hold the lock, so any socket, port or token file left here belongs to a dead daemon.
    this.dropTransportFiles();
    // The server starts with a handler that forwards to the app, which is built once the
    // address is known; both happen in one tick, before any request can arrive.
    let handle: Fetch = () => new Response(null, { status: 503 });
    // Once the stop begins, a request that still gets in is told so plainly, not cut off.
    const fetch = (request: Request) => {
      if (this.#stopping) return stoppingResponse(paths);
      // An event stream is quiet between events by design and ends only with its client.
      if (request.method === "GET" && pathOf(request.url) === "/events") keepOpen(request);
      return handle(request);
    };
    const info: AppInfo = {
      pid: process.pid,
      version: VERSION,
      startedAt: new Date(),
      projectDir: paths.root,
      transport: "unix",
      socket: paths.socket,
      port: null,
    };
    // Listening from before the first request; its streams end first at the stop (see stop()).
    const engine = this.engine ?? new EngineApi(paths, new EngineStore(this.store));
    this.#events = new EventHub(engine.state, (id) => engine.run(id));
    const appOptions: AppOptions = {
      logError: (message) => log.error(message),
      events: this.#events,
      ...(this.engine ? { engine: this.engine } : {}),
    };

    let server: Front | undefined;
    if (!options.tcp) {
      try {
        server = listenUnix(paths, fetch, bunServeOptions((message) => log.error(message)));
      } catch (error) {
        // A socket place ve does not trust is a refusal, never a quiet switch to TCP (one that
        // cannot be created, on a read-only or missing runtime directory, is no threat).
        if (error instanceof VeError && error.code === "unsafe_path") throw new StartRefused(error.message);
        log.warn(`cannot listen on ${paths.socket} (${(error as Error).message}); falling back to TCP on 127.0.0.1`);
      }
    }
    if (!server) {
      appOptions.token = newToken();
      writePrivateFile(paths.token, `${appOptions.token}\n`);
      try {
        server = listenTcp(paths, options.port ?? 0, closingUnauthorized(fetch), bunServeOptions((message) => log.error(message)));
      } catch (error) {
        this.dropTransportFiles();
        throw new StartRefused(
          `cannot listen on 127.0.0.1:${options.port ?? 0} (${(error as Error).message}); choose another --port`,
        );
      }
      Object.assign(info, { transport: "tcp", socket: null, port: server.port ?? null });
    }
    // fetch, not handle: handle is an async wrapper around it, one more promise per request.
    handle = createApp(this.store, info, appOptions).fetch;
    this.#server = server;
    this.#info = info;
    const made: [string, string][] =
      info.transport === "unix" ? [["socket", paths.socket]] : [["port file", paths.port], ["token file", paths.token]];
    for (const [what, path] of made) {
      const identity = identityOf(path);
      if (identity) this.#own.push({ what, path, identity });
    }
    log.info(
      info.transport === "unix" ? `listening on ${info.socket}` : `listening on 127.0.0.1:${info.port} (token in ${paths.token})`,
    );
    if (info.transport === "tcp" && this.fdLimit !== undefined && info.port !== null) {
      this.guardDescriptors(info.port, closingUnauthorized(fetch), this.fdLimit);
    }
  }

  /** See fd-guard.ts: near the open-file limit, every TCP connection is closed on a new listener. */
  private guardDescriptors(port: number, fetch: Fetch, limit: number): void {
    const threshold = sheddingThreshold(limit);
    const reserve = new ReservedDescriptors();
    this.#reserve = reserve;
    let renewing = false;
    this.#guard = setInterval(async () => {
      const open = openFdCount();
      if (renewing || this.#stopping || !this.#server || open === undefined || open < threshold) return;
      renewing = true;
      try {
        this.log.warn(
          `${Number.isFinite(open) ? open : "all"} descriptors open, near the limit of ${limit}: closing every TCP connection and listening on 127.0.0.1:${port} anew`,
        );
        const old = this.#server;
        this.#server = reserve.use(() => serveTcp(port, fetch, bunServeOptions((message) => this.log.error(message))));
        await old.stop(true);
      } catch (error) {
        this.log.error(`renewing the TCP listener failed: ${(error as Error).message}`);
      } finally {
        renewing = false;
      }
    }, FD_CHECK_INTERVAL_MS);
    // The server keeps the process alive; this timer alone must not.
    this.#guard.unref();
  }

  /** Where it listens, once started. */
  get info(): AppInfo {
    if (!this.#info) throw new Error("the server service has not started");
    return this.#info;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    // Event streams never end by themselves: ended here (with `shutdown`), they do not hold
    // the graceful stop below for its whole grace.
    this.#events?.close();
    if (this.#guard) clearInterval(this.#guard);
    this.#reserve?.close();
    const server = this.#server;
    this.#server = undefined;
    const socket = this.#own.find((file) => file.what === "socket");
    if (server && socket && compareFile(socket.path, socket.identity) !== "same") {
      // Bun's stop unlinks the socket path, which is another daemon's now (or nothing): leave
      // the listener to the process exit, which closes it without touching the path.
      this.log.warn(`${socket.path} is not this daemon's socket any more; closing without removing it`);
      this.#own.length = 0;
      return;
    }
    if (server) {
      const graceful = server.stop(false);
      const timedOut = await Promise.race([graceful.then(() => false), Bun.sleep(STOP_GRACE_MS).then(() => true)]);
      if (timedOut) {
        this.log.warn(`requests still running after ${STOP_GRACE_MS} ms; closing them`);
        await server.stop(true);
      }
    }
    // Only our own: after `.ve/` was deleted, the files at these paths are another daemon's.
    for (const file of this.#own.splice(0)) {
      try {
        unlinkIfOurs(file.path, file.identity);
      } catch (error) {
        this.log.warn(`cannot remove ${file.path}: ${(error as Error).message}`);
      }
    }
  }

  watched(): WatchedFile[] {
    return this.#own.map((file) => ({ ...file }));
  }
}
