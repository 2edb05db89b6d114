import { defineCommand } from "citty";
import { VeError } from "../../../errors.ts";
import type { DaemonNotRunning } from "../../../models/index.ts";
import { commonArgs } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { EXIT_NOT_RUNNING } from "../../exit.ts";
import { print } from "../../output.ts";
import { daemonSummary } from "../../render.ts";

export default defineCommand({
  meta: { name: "status", description: "Show whether the daemon runs (exit 0) or not (exit 3), with counts" },
  args: { ...commonArgs },
  async run({ args }) {
    const ctx = await commandContext(args);
    try {
      await emit(ctx, await ctx.client.status(), daemonSummary);
      return;
    } catch (error) {
      if (!(error instanceof VeError) || error.code !== "daemon_not_running") throw error;
      // Not running is an answer, not a failure: say so, and what a crash left behind.
      // The lock probe loads bun:ffi: only worth it once the daemon did not answer.
      const { inspectStaleState } = await import("../../../control/daemon.ts");
      const stale = inspectStaleState(ctx.paths);
      const notes: string[] = [];
      if (stale.lockHolder !== null) {
        notes.push(`process ${stale.lockHolder} holds the daemon lock but has no socket; \`ve orch stop\` ends it`);
      }
      if (stale.stalePid !== null) notes.push(`the pid file names ${stale.stalePid}, which no longer runs`);
      for (const file of stale.staleFiles) notes.push(`stale ${file} (the next start removes it)`);
      const doc: DaemonNotRunning = {
        running: false,
        project_dir: ctx.paths.root,
        message: error.message,
        stale_files: stale.staleFiles,
        stale_pid: stale.stalePid,
        lock_holder: stale.lockHolder,
      };
      print(ctx.json ? JSON.stringify(doc) : [doc.message, ...notes.map((n) => `  ${n}`)].join("\n"));
      return EXIT_NOT_RUNNING;
    }
  },
});
