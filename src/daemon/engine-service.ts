// The engine as a daemon service: started after the store (it recovers what a dead daemon
// left, then listens to the change feed), stopped before it (every run ended, closed
// `interrupted`, its unit READY for the next start).
import { commandBackend } from "../agents/command.ts";
import type { Backend } from "../agents/backend.ts";
import { EngineApi } from "../engine/api.ts";
import { Engine } from "../engine/engine.ts";
import type { ProjectPaths } from "../project/paths.ts";
import { EngineStore } from "../state/engine.ts";
import type { Store } from "../state/store.ts";
import type { Reporter, Service } from "./services.ts";

/** The backends a run can use, by name. */
export const BACKENDS: Readonly<Record<string, Backend>> = { command: commandBackend };

export class EngineService implements Service {
  readonly name = "engine";
  readonly api: EngineApi;
  private readonly engine: Engine;
  /** Milliseconds running phases may take to finish before the stop ends them (`stop --drain`). */
  drainMs = 0;

  constructor(paths: ProjectPaths, store: Store, log: Reporter) {
    const state = new EngineStore(store);
    this.api = new EngineApi(paths, state);
    this.engine = new Engine({ paths, state, log, backends: BACKENDS, veBinary: process.execPath });
  }

  start(): Promise<void> {
    return this.engine.start();
  }

  /** `ve orch stop --drain`: no new run starts from now on; the stop then waits for the running ones. */
  drain(ms: number): void {
    this.drainMs = ms;
    this.engine.drain();
  }

  stop(): Promise<void> {
    return this.engine.stop(this.drainMs);
  }
}
