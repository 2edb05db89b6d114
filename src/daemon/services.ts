// The daemon's lifecycle: every part (log, lock, store, server, and later scheduler and agents)
// is a service that starts, and is stopped exactly once, in reverse order, however the daemon
// ends: a signal, a failed start of any service, a service asking to end, or a throw.
import { VeError, storageFault } from "../errors.ts";
import { storageExitCode } from "../project/protocol.ts";
import { writeStderr } from "./log.ts";

export interface Service {
  /** Short, for log lines: "lock", "store", "server". */
  readonly name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * A start that cannot go on, with the exit code and the message a person reads. `level: "info"`
 * is an expected refusal (another daemon holds the project), not a fault.
 */
export class StartRefused extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly level: "info" | "error" = "error",
  ) {
    super(message);
  }
}

export interface EndRequest {
  /** Logged as "<reason>; stopping". */
  reason: string;
  exitCode: number;
}

/** How a running daemon is asked to end: signals, a service that sees its ground vanish. */
export class Ending {
  private resolveEnd!: (request: EndRequest) => void;
  private requested: EndRequest | undefined;
  readonly promise: Promise<EndRequest>;

  constructor() {
    this.promise = new Promise((resolve) => {
      this.resolveEnd = resolve;
    });
  }

  /** The first request wins; later ones (a second SIGTERM) are ignored. */
  request(reason: string, exitCode = 0): void {
    if (this.requested) return;
    this.requested = { reason, exitCode };
    this.resolveEnd(this.requested);
  }

  get isRequested(): boolean {
    return this.requested !== undefined;
  }
}

export interface Composition {
  /** Starts `service` and records it for the reverse-order stop; returns it for its outputs. */
  add<S extends Service>(service: S): Promise<S>;
}

export interface RunOptions {
  ending: Ending;
  /** Where lifecycle lines go; a getter, because the log itself is the first service. */
  reporter: () => Reporter;
  /** Also print start refusals on stderr (foreground: the user is watching the terminal). */
  echoRefusals?: boolean;
}

/**
 * Runs `compose` (which adds the services in dependency order), waits for the end, then stops
 * what started, last first. Returns the exit code.
 */
export async function runServices(compose: (composition: Composition) => Promise<void>, options: RunOptions): Promise<number> {
  const started: Service[] = [];
  const report = () => options.reporter();
  let exitCode = 0;
  try {
    await compose({
      async add(service) {
        // A stop asked for during start-up (SIGTERM right after spawn) starts nothing more.
        if (options.ending.isRequested) throw new EndedDuringStart();
        await service.start();
        started.push(service);
        return service;
      },
    });
    const end = await options.ending.promise;
    report().info(`${end.reason}; stopping`);
    exitCode = end.exitCode;
  } catch (error) {
    if (error instanceof EndedDuringStart) {
      // Ending.promise is resolved; this returns at once.
      const end = await options.ending.promise;
      report().info(`${end.reason} during start-up; stopping`);
      exitCode = end.exitCode;
    } else if (error instanceof StartRefused) {
      report()[error.level](error.message);
      if (options.echoRefusals) writeStderr(`ve: ${error.message}\n`);
      exitCode = error.exitCode;
    } else {
      const message = `cannot start: ${error instanceof Error ? error.message : String(error)}`;
      report().error(message);
      if (options.echoRefusals) writeStderr(`ve: ${message}\n`);
      // A disk that refused the start (the state directory, the pid file) tells the CLI so
      // by the exit code: its log line may not have fit on that disk.
      exitCode = storageExitCode(error instanceof VeError ? error.code : storageFault(error, "", "")?.code) ?? 1;
    }
  }
  await stopAll(started, report);
  return exitCode;
}

class EndedDuringStart extends Error {}

/** Last started, first stopped; a failing stop is reported and the others still stop. */
async function stopAll(started: Service[], report: () => Reporter): Promise<void> {
  while (started.length > 0) {
    const service = started.pop() as Service;
    try {
      await service.stop();
    } catch (error) {
      report().error(`stopping the ${service.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
