// The typed client of the daemon's API, used by every CLI command. It finds the daemon from
// the project's files (socket first, then port + token), bounds every request with a
// timeout, and turns every failure into a VeError that says what to do.
import { CHUNK_NAME_RULE, explainChunkName, isValidChunkName } from "../domain.ts";
import { type ErrorCode, VeError } from "../errors.ts";
import type {
  AgentAskRequest,
  AgentCallRecorded,
  AgentDoneRequest,
  AnswerRequest,
  AttentionKind,
  AttentionQueue,
  RetriedUnits,
  BackendCheck,
  BackendList,
  DaemonEvent,
  ClaimWorkUnit,
  ConfigEntry,
  ConfigList,
  Injected,
  InjectRequest,
  PruneResult,
  ShutdownResult,
  Run,
  RunList,
  WorktreeList,
  CreateWorkUnit,
  DaemonStatus,
  Deleted,
  ErrorBody,
  History,
  UpdateWorkUnit,
  WorkUnit,
  WorkUnitChanged,
  WorkUnitFilter,
  WorkUnitList,
} from "../models/index.ts";
import type { ProjectPaths } from "../project/paths.ts";
import { RUN_TOKEN_HEADER } from "../project/protocol.ts";
import { VERSION, VERSION_HEADER } from "../version.ts";
import type { FollowOptions } from "./events.ts";
import { type HttpRequest, type HttpResponse, type Target, TransportError, exchange } from "./http.ts";
import type { StreamResponse } from "./stream.ts";
import { checkSocket, findTcpEndpoint } from "./trust.ts";

export const REQUEST_TIMEOUT_MS = 5000;

export type Endpoint = { transport: "unix"; socket: string } | { transport: "tcp"; port: number; token: string };

export interface ClientOptions {
  timeoutMs?: number;
  /** Receives the once-per-process warning about a daemon of another version. */
  onWarning?: (message: string) => void;
}

/** A successful answer: the body as sent (what `--json` prints) and its parsed value. */
export interface Reply<T> {
  status: number;
  /** The body's bytes as the daemon sent them. */
  bytes: Uint8Array;
  /** The body as text (decoded on first read). */
  readonly text: string;
  /** The body parsed (on first read). */
  readonly data: T;
}

let versionWarned = false;

/** Whether a file stands where `.ve/` should be (asked only once a connect has failed). */
function stateDirIsAFile(stateDir: string): boolean {
  const back = process.cwd();
  try {
    process.chdir(stateDir);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOTDIR";
  }
  process.chdir(back);
  return false;
}

/**
 * The path of a unit. A name is checked here, not only by the daemon: `.` or `..` would be
 * taken as path steps on the way (`/work-units/..` is `/`) and reach another route.
 */
function unitPath(chunk: string): string {
  if (!isValidChunkName(chunk)) {
    const message = explainChunkName("chunk", chunk) ?? `chunk must be ${CHUNK_NAME_RULE}`;
    throw new VeError("validation_failed", `${message}.`, { field: "chunk" });
  }
  return `/work-units/${chunk}`;
}

export { findTcpEndpoint } from "./trust.ts";

function isConnectFailure(error: unknown): boolean {
  return error instanceof TransportError && error.failure.kind === "connect";
}

export function requestTimeoutMs(): number {
  const fromEnv = Number(process.env.VE_REQUEST_TIMEOUT_MS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : REQUEST_TIMEOUT_MS;
}

export class Client {
  private readonly timeoutMs: number;

  constructor(
    readonly paths: ProjectPaths,
    private readonly options: ClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? requestTimeoutMs();
  }

  status(): Promise<Reply<DaemonStatus>> {
    return this.call("GET", "/status");
  }

  listWorkUnits(filter: WorkUnitFilter = {}): Promise<Reply<WorkUnitList>> {
    const query = new URLSearchParams(filter as Record<string, string>).toString();
    return this.call("GET", `/work-units${query ? `?${query}` : ""}`);
  }

  createWorkUnit(body: CreateWorkUnit): Promise<Reply<WorkUnit>> {
    return this.call("POST", "/work-units", body);
  }

  async getWorkUnit(chunk: string): Promise<Reply<WorkUnit>> {
    return this.call("GET", unitPath(chunk));
  }

  async updateWorkUnit(chunk: string, patch: UpdateWorkUnit): Promise<Reply<WorkUnitChanged>> {
    return this.call("PATCH", unitPath(chunk), patch);
  }

  /** The next READY unit, made RUNNING atomically; nothing_to_claim when there is none. */
  claimWorkUnit(body: ClaimWorkUnit): Promise<Reply<WorkUnitChanged>> {
    return this.call("POST", "/claims", body);
  }

  async deleteWorkUnit(chunk: string, force: boolean): Promise<Reply<Deleted>> {
    return this.call("DELETE", `${unitPath(chunk)}${force ? "?force=true" : ""}`);
  }

  async history(chunk: string): Promise<Reply<History>> {
    return this.call("GET", `${unitPath(chunk)}/history`);
  }

  inject(body: InjectRequest): Promise<Reply<Injected>> {
    return this.call("POST", "/inject", body);
  }

  async retry(chunk: string, fresh: boolean, acceptBase = false): Promise<Reply<WorkUnit>> {
    return this.call("POST", `${unitPath(chunk)}/retry`, { ...(fresh ? { fresh: true } : {}), ...(acceptBase ? { accept_base: true } : {}) });
  }

  /** The attention queue, in the order to work it; only one kind when given. */
  attention(kind?: AttentionKind): Promise<Reply<AttentionQueue>> {
    return this.call("GET", `/attention${kind === undefined ? "" : `?kind=${encodeURIComponent(kind)}`}`);
  }

  async answer(chunk: string, body: AnswerRequest): Promise<Reply<WorkUnit>> {
    return this.call("POST", `${unitPath(chunk)}/answer`, body);
  }

  retryAll(kind: AttentionKind | undefined, fresh: boolean): Promise<Reply<RetriedUnits>> {
    return this.call("POST", "/attention/retry", { ...(kind === undefined ? {} : { kind }), ...(fresh ? { fresh: true } : {}) });
  }

  runs(chunk?: string): Promise<Reply<RunList>> {
    if (chunk !== undefined) unitPath(chunk);
    return this.call("GET", `/runs${chunk === undefined ? "" : `?chunk=${chunk}`}`);
  }

  run(id: string): Promise<Reply<Run>> {
    return this.call("GET", `/runs/${encodeURIComponent(id)}`);
  }

  config(): Promise<Reply<ConfigList>> {
    return this.call("GET", "/config");
  }

  setConfig(key: string, value: unknown): Promise<Reply<ConfigEntry>> {
    return this.call("PUT", `/config/${encodeURIComponent(key)}`, { value });
  }

  unsetConfig(key: string): Promise<Reply<ConfigEntry>> {
    return this.call("DELETE", `/config/${encodeURIComponent(key)}`);
  }

  worktrees(): Promise<Reply<WorktreeList>> {
    return this.call("GET", "/worktrees");
  }

  pruneWorktrees(apply: boolean): Promise<Reply<PruneResult>> {
    return this.call("POST", "/worktrees/prune", { apply });
  }

  backends(): Promise<Reply<BackendList>> {
    return this.call("GET", "/backends");
  }

  /** Runs the backend's check in the daemon; answers when its run has ended (give this client a timeout beyond `timeoutS`). */
  async checkBackend(name: string, timeoutS?: number): Promise<Reply<BackendCheck>> {
    // A name that is no single path segment (`..`, `a/b`) would reach another route.
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
      throw new VeError("validation_failed", `'${name}' is not a backend name; \`ve orch backend list\` shows them.`, { field: "name" });
    }
    return this.call("POST", `/backends/${name}/check`, timeoutS === undefined ? {} : { timeout_s: timeoutS });
  }

  /** Ends the daemon after draining it for up to `drainMs`; answers once the drain is over. */
  shutdown(drainMs: number): Promise<Reply<ShutdownResult>> {
    return this.call("POST", "/shutdown", { drain_ms: drainMs });
  }

  /**
   * Every committed change as it happens (GET /events), parsed; after `lastEventId` if given.
   * A subscriber dropped for falling behind reconnects by itself. Ends after the daemon's
   * `shutdown` event (or when `signal` aborts); a daemon that vanishes without one ends it
   * with daemon_not_running.
   */
  async *events(options: FollowOptions = {}): AsyncGenerator<DaemonEvent> {
    // Loaded only by the commands that follow events: every other command stays as light.
    const { followEvents } = await import("./events.ts");
    yield* followEvents(this, options);
  }

  /** A streaming GET over the socket, else TCP, with the checks of `call`; failures as VeErrors. */
  async openStream(path: string, headers: Record<string, string> = {}): Promise<StreamResponse> {
    const { openStream } = await import("./stream.ts");
    const response = await this.send({ method: "GET", path, headers }, openStream);
    if (response.status === 200) return response;
    // An error answer: its body is a short JSON document.
    const pieces: Uint8Array[] = [];
    for await (const piece of response.body) pieces.push(piece);
    const text = new TextDecoder().decode(new Uint8Array(Bun.concatArrayBuffers(pieces)));
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {}
    throw this.errorAnswer("GET", path, response.status, body);
  }

  /** An agent's question about its own run, carrying the run's secret (VE_RUN_TOKEN). */
  agentAsk(token: string, body: AgentAskRequest): Promise<Reply<AgentCallRecorded>> {
    return this.call("POST", "/agent/ask", body, { [RUN_TOKEN_HEADER]: token });
  }

  /** An agent's report that its phase is done, carrying the run's secret (VE_RUN_TOKEN). */
  agentDone(token: string, body: AgentDoneRequest): Promise<Reply<AgentCallRecorded>> {
    return this.call("POST", "/agent/done", body, { [RUN_TOKEN_HEADER]: token });
  }

  private notRunning(extra: string, details: Record<string, unknown> = {}): VeError {
    return new VeError(
      "daemon_not_running",
      `No ve daemon is running for ${this.paths.root}${extra}; start one with \`ve orch start\`.`,
      { project_dir: this.paths.root, ...details },
    );
  }

  /**
   * Sends `request` with `via` over the socket if a daemon listens there (after the socket's
   * owner check), else over TCP if one recorded a port; checks the daemon's version.
   */
  private async send<R extends { headers: Map<string, string> }>(
    request: HttpRequest,
    via: (target: Target, request: HttpRequest, timeoutMs: number, ready?: Promise<void>) => Promise<R>,
  ): Promise<R> {
    const socket: Endpoint = { transport: "unix", socket: this.paths.socket };
    let response: R;
    // Started with the connect, awaited before the request is written (see trust.ts).
    const trusted = checkSocket(this.paths);
    trusted.catch(() => {});
    try {
      response = await via({ unix: socket.socket }, request, this.timeoutMs, trusted);
    } catch (error) {
      // A socket that is not ours is refused, never passed over for TCP.
      if (error instanceof VeError) throw error;
      const tcp = isConnectFailure(error) ? await findTcpEndpoint(this.paths) : undefined;
      if (!tcp || tcp.transport !== "tcp") throw this.describeFailure(error, socket);
      try {
        response = await via(
          { hostname: "127.0.0.1", port: tcp.port },
          { ...request, headers: { ...request.headers, authorization: `Bearer ${tcp.token}` } },
          this.timeoutMs,
        );
      } catch (tcpError) {
        throw this.describeFailure(tcpError, tcp);
      }
    }
    this.checkVersion(response.headers.get(VERSION_HEADER));
    return response;
  }

  /** The error an answer's JSON body carries, or bad_response when it carries none. */
  private errorAnswer(method: string, path: string, status: number, body: unknown): VeError {
    const error = (body as Partial<ErrorBody> | undefined)?.error;
    if (!error || typeof error.code !== "string" || typeof error.message !== "string") {
      return new VeError("bad_response", `The daemon answered ${method} ${path} with status ${status} and no error.`, { status });
    }
    return new VeError(error.code as ErrorCode, error.message, error.details);
  }

  /** One request: over the socket if a daemon listens there, else over TCP if one recorded a port. */
  private async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const request = { method, path, headers, body: body === undefined ? undefined : JSON.stringify(body) };
    const response: HttpResponse = await this.send(request, exchange);
    const parse = () => {
      try {
        return JSON.parse(response.body) as unknown;
      } catch {
        throw new VeError("bad_response", `The daemon answered ${method} ${path} with something that is not JSON; restart it.`, {
          status: response.status,
        });
      }
    };
    if (response.status >= 200 && response.status < 300) {
      // Parsed only when read: --json prints the text as the daemon sent it.
      let data: T | undefined;
      return {
        status: response.status,
        bytes: response.bytes,
        get text(): string {
          return response.body;
        },
        get data(): T {
          data ??= parse() as T;
          return data;
        },
      };
    }
    throw this.errorAnswer(method, path, response.status, parse());
  }

  /** The daemon closed the connection without a word: it is stopping (or it crashed). */
  private stopping(where: string): VeError {
    return new VeError(
      "daemon_stopping",
      `The ve daemon at ${where} closed the connection without answering: it is stopping (or it crashed). Check \`ve orch status\`, then run the command again.`,
      { project_dir: this.paths.root },
    );
  }

  private describeFailure(error: unknown, endpoint: Endpoint): VeError {
    if (!(error instanceof TransportError)) return new VeError("bad_response", `Talking to the daemon failed: ${String(error)}.`);
    const failure = error.failure;
    const where = endpoint.transport === "unix" ? endpoint.socket : `127.0.0.1:${endpoint.port}`;
    switch (failure.kind) {
      case "timeout":
        return new VeError(
          "daemon_unresponsive",
          `The ve daemon at ${where} did not answer within ${this.timeoutMs / 1000} s; it may be suspended or overloaded (\`ve orch stop\` ends it).`,
          { project_dir: this.paths.root, timeout_ms: this.timeoutMs },
        );
      case "connect":
        if (failure.code === "ENOENT") return this.notRunning("");
        if (endpoint.transport === "unix" && !this.paths.socketInRuntimeDir && stateDirIsAFile(this.paths.stateDir)) {
          return new VeError(
            "io_failed",
            `${this.paths.stateDir} is not a directory (a file is in its place), so no ve daemon can run for ${this.paths.root}; move that file away (ve keeps its state in a directory of that name).`,
            { project_dir: this.paths.root, path: this.paths.stateDir },
          );
        }
        if (failure.code === "EACCES") {
          return new VeError(
            "io_failed",
            `Cannot connect to ${where}: permission denied; the socket or a directory above it is not accessible to you (check the owner and mode of ${this.paths.stateDir}).`,
            { project_dir: this.paths.root, path: where },
          );
        }
        if (failure.code === "ECONNRESET" || failure.code === "EPIPE") return this.stopping(where);
        if (failure.code === "ECONNREFUSED") {
          const file = endpoint.transport === "unix" ? endpoint.socket : this.paths.port;
          return this.notRunning(` (${file} was left by a daemon that exited; \`ve orch start\` replaces it)`, {
            stale_file: file,
          });
        }
        return new VeError("daemon_unresponsive", `Cannot reach the ve daemon at ${where} (${failure.message}).`, {
          project_dir: this.paths.root,
          code: failure.code,
        });
      case "protocol":
        if (failure.unanswered) return this.stopping(where);
        return new VeError("bad_response", `The ve daemon at ${where} sent a broken answer (${failure.message}); restart it.`);
    }
  }

  private checkVersion(daemonVersion: string | undefined): void {
    if (versionWarned || daemonVersion === undefined || daemonVersion === VERSION) return;
    versionWarned = true;
    this.options.onWarning?.(
      `the daemon runs ve ${daemonVersion} but this is ve ${VERSION}; restart it (\`ve orch stop && ve orch start\`) to use one version.`,
    );
  }
}
