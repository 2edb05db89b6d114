// What the API's engine routes ask of the engine: one object, so the routes stay thin and the
// engine's rules stay here.
import { VeError } from "../errors.ts";
import { listWorktrees, removeWorktree, unlockWorktree } from "../git/worktrees.ts";
import type { ConfigEntry, InjectRequest, ShutdownResult, PruneResult, Run, WorkUnit, WorktreeInfo } from "../models/index.ts";
import type { ProjectPaths } from "../project/paths.ts";
import type { EngineStore, RunRow } from "../state/engine.ts";
import { effectiveConfig, keyDefinition, validateConfigValue } from "./config.ts";
import { planInject } from "./inject.ts";
import { reconcileWorktrees } from "./reconcile.ts";
import { runLogPath } from "./run-log.ts";
import { diskUsageBytes } from "./worktrees.ts";

export class EngineApi {
  constructor(
    private readonly paths: ProjectPaths,
    readonly state: EngineStore,
    /** Drains the daemon's engine for up to the given milliseconds, then ends the daemon; absent outside a daemon. */
    private readonly shutdownHook?: (drainMs: number) => Promise<ShutdownResult>,
  ) {}

  shutdown(drainMs: number): Promise<ShutdownResult> {
    if (!this.shutdownHook) throw new VeError("daemon_stopping", "This server runs no daemon to shut down.");
    return this.shutdownHook(drainMs);
  }

  /** The checks of an inject (they read git); the write it returns creates the units. */
  planInject(request: InjectRequest): Promise<() => WorkUnit[]> {
    return planInject(this.paths.root, this.state, request);
  }

  retry(chunk: string, fresh: boolean): WorkUnit {
    const unit = this.state.store.get(chunk);
    if (unit.status !== "NEEDS_ATTENTION") {
      throw new VeError(
        "not_waiting",
        `Work unit '${chunk}' is ${unit.status}, not waiting on a person; only a unit in NEEDS_ATTENTION can be retried.`,
        { chunk, status: unit.status },
      );
    }
    return this.state.retry(chunk, fresh);
  }

  private toRun(row: RunRow): Run {
    return { ...row, log: runLogPath(this.paths.stateDir, row.chunk, row.id) };
  }

  runs(chunk?: string): Run[] {
    if (chunk !== undefined) this.state.store.get(chunk);
    return this.state.runs(chunk).map((r) => this.toRun(r));
  }

  run(id: string): Run {
    const row = this.state.run(id);
    if (!row) throw new VeError("not_found", `No run with id '${id}'; \`ve orch runs\` lists them.`, { run_id: id });
    return this.toRun(row);
  }

  config(): ConfigEntry[] {
    return effectiveConfig(this.state.config());
  }

  setConfig(key: string, value: unknown): ConfigEntry {
    this.state.setConfig(key, validateConfigValue(key, value));
    return this.entry(key);
  }

  unsetConfig(key: string): ConfigEntry {
    keyDefinition(key);
    this.state.setConfig(key, undefined);
    return this.entry(key);
  }

  private entry(key: string): ConfigEntry {
    return this.config().find((e) => e.key === key) as ConfigEntry;
  }

  async worktrees(withSizes = true): Promise<WorktreeInfo[]> {
    const units = this.state.store
      .list()
      .filter((u) => u.scheduled)
      .map((u) => ({ chunk: u.chunk, scheduled: true, inFlight: u.status !== "DONE" }));
    const rows = reconcileWorktrees(this.paths.stateDir, units, await listWorktrees(this.paths.root));
    return Promise.all(
      rows.map(async (row) => ({ ...row, size_bytes: withSizes && row.state !== "missing" ? await diskUsageBytes(row.path) : null })),
    );
  }

  /** Removes worktrees no unit in flight owns; a dry run unless `apply`. Branches are kept. */
  async prune(apply: boolean): Promise<PruneResult> {
    const orphans = (await this.worktrees()).filter((w) => w.state === "orphaned");
    const refused: PruneResult["refused"] = [];
    const removed: WorktreeInfo[] = [];
    if (!apply) return { applied: false, worktrees: orphans, refused };
    for (const worktree of orphans) {
      try {
        await unlockWorktree(this.paths.root, worktree.path);
        await removeWorktree(this.paths.root, worktree.path);
        removed.push(worktree);
      } catch (error) {
        refused.push({ path: worktree.path, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    return { applied: true, worktrees: removed, refused };
  }
}
