// The engine as a daemon service: started after the store (it recovers what a dead daemon
// left, then listens to the change feed), stopped before it (every run ended, closed
// `interrupted`, its unit READY for the next start).
import type { Backend } from "../agents/backend.ts";
import { EngineApi } from "../engine/api.ts";
import { AttentionHook } from "../engine/attention-hook.ts";
import { BackendChecks } from "../engine/backend-check.ts";
import { type DrainOutcome, Engine } from "../engine/engine.ts";
import type { ProjectPaths } from "../project/paths.ts";
import { EngineStore } from "../state/engine.ts";
import type { Store } from "../state/store.ts";
import type { Ending, Reporter, Service } from "./services.ts";

export class EngineService implements Service {
  readonly name = "engine";
  readonly api: EngineApi;
  private readonly engine: Engine;
  /** `on_attention`: told of every unit that starts needing a person. */
  private readonly hook: AttentionHook;
  private readonly checks: BackendChecks;

  /** `backends`: the ones a run can use, by name (agents/registry.ts loadBackends). */
  constructor(paths: ProjectPaths, store: Store, log: Reporter, ending: Ending, backends: Readonly<Record<string, Backend>>) {
    const state = new EngineStore(store);
    this.hook = new AttentionHook({ store, config: () => state.config(), projectDir: paths.root, log });
    this.engine = new Engine({ paths, state, log, backends, veBinary: process.execPath });
    // `ve orch backend check`: the same backends, settings and environment the engine's runs get.
    this.checks = new BackendChecks({ backends, config: () => state.config(), projectDir: paths.root, veBinary: process.execPath });
    // `ve orch stop --drain` (POST /shutdown): the daemon drains while it still serves (agents
    // may call it), then ends the ordinary way, which interrupts what still runs.
    this.api = new EngineApi(paths, state, async (drainMs) => {
      log.info(drainMs > 0 ? `drain requested: no new run starts; running phases get up to ${drainMs / 1000} s to finish` : "stop requested");
      // A SIGTERM meanwhile overtakes the drain: it answers at once, before the server stops.
      const outcome: DrainOutcome = drainMs > 0 ? await this.engine.drainFor(drainMs, ending.promise) : { finished: 0, interrupted: 0 };
      // After this answer is on its way: the server's graceful stop lets it finish.
      setImmediate(() => ending.request(drainMs > 0 ? `drained (${outcome.finished} finished, ${outcome.interrupted} still running)` : "stop requested"));
      return outcome;
    }, this.checks);
  }

  start(): Promise<void> {
    this.hook.start();
    return this.engine.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.engine.stop(), this.hook.stop(), this.checks.stop()]);
  }
}
