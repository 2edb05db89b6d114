import { defineCommand } from "citty";
import { startDaemon, versionNotice } from "../../../control/daemon.ts";
import { ensureStateDir } from "../../../project/state-dir.ts";
import type { StartResult } from "../../../models/index.ts";
import { enclosingProject, isMarkedRoot } from "../../../project/paths.ts";
import { VeError } from "../../../errors.ts";
import { commonArgs, integerOption, usageError } from "../../args.ts";
import { type CommandContext, commandContext, emitValue } from "../../context.ts";
import { EXIT_OK } from "../../exit.ts";
import { logger, print, printError } from "../../output.ts";
import { daemonSummary } from "../../render.ts";

/**
 * A start in an unmarked directory below another project would create a `.ve/` that from then
 * on shadows the enclosing project for every command run below it: only on request.
 */
async function refuseNestedProject(root: string): Promise<void> {
  if (isMarkedRoot(root)) return;
  const outer = await enclosingProject(root);
  if (outer === undefined) return;
  throw new VeError(
    "usage",
    `${root} lies inside the project ${outer}; starting here would create a second project that hides ${outer} from every command run below ${root}. Use ${outer} (leave out --project-dir), or pass --nested to create a separate project here.`,
    { project_dir: root, enclosing_project: outer },
  );
}

export default defineCommand({
  meta: { name: "start", description: "Start this project's daemon (does nothing if it already runs)" },
  args: {
    ...commonArgs,
    foreground: { type: "boolean", description: "Run the daemon attached to this terminal (for systemd, containers, debugging)" },
    tcp: { type: "boolean", description: "Listen on 127.0.0.1 with a bearer token instead of a Unix socket" },
    port: { type: "string", valueHint: "n", description: "TCP port with --tcp (default: any free port)" },
    nested: {
      type: "boolean",
      description: "Create a new project here even though the directory lies inside another project",
    },
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const port = integerOption("port", args.port, 1, 65535);
    if (port !== undefined && !args.tcp) throw usageError("--port only applies with --tcp");
    if (args.nested !== true) await refuseNestedProject(ctx.paths.root);
    if (args.foreground) return await runInForeground(ctx, args.tcp === true, port);
    const result = await startDaemon(ctx.paths, { tcp: args.tcp === true, port });
    if (result.notice) logger().warn(result.notice);
    const skew = result.alreadyRunning ? versionNotice(result.status.version) : undefined;
    if (skew) logger().warn(skew);
    // On stderr even with --json: what the start changed (a migration renaming units) must be seen.
    for (const warning of result.warnings) logger().warn(warning);
    const wanted = args.tcp ? "tcp" : "unix";
    if (result.alreadyRunning && result.status.transport !== wanted && !ctx.json) {
      logger().warn(`it listens on ${result.status.transport}, not ${wanted}; stop it first to switch.`);
    }
    const doc: StartResult = { already_running: result.alreadyRunning, daemon: result.status };
    emitValue(ctx, doc, (d) =>
      `${d.already_running ? "ve daemon already running" : "ve daemon started"} (pid ${d.daemon.pid})\n${daemonSummary(d.daemon).split("\n").slice(1).join("\n")}`,
    );
  },
});

/** How often `--foreground --json` asks its own daemon whether it answers yet. */
const READY_POLL_MS = 5;

/**
 * The daemon in this process, until it stops; its exit code is the command's. Its log goes to
 * stderr; with --json, stdout gets one document, the daemon's status once it answers (or the
 * error, when it ends without ever answering).
 */
async function runInForeground(ctx: CommandContext, tcp: boolean, port: number | undefined): Promise<number> {
  ensureStateDir(ctx.paths);
  const { runDaemon } = await import("../../../daemon/main.ts");
  const daemon = runDaemon({ root: ctx.paths.root, foreground: true, tcp, port });
  if (!ctx.json) return await daemon;
  let ended = false;
  const code = daemon.finally(() => {
    ended = true;
  });
  let reported = false;
  while (!ended) {
    try {
      const status = await ctx.client.status();
      const doc: StartResult = { already_running: false, daemon: status.data };
      if (status.data.pid === process.pid) {
        print(JSON.stringify(doc));
        reported = true;
        break;
      }
    } catch {
      // Not listening yet: ask again shortly, unless it has ended meanwhile.
    }
    await Promise.race([code, Bun.sleep(READY_POLL_MS)]);
  }
  const exit = await code;
  if (!reported) {
    printError(
      new VeError("daemon_start_failed", `The daemon ended with exit code ${exit} before it answered; stderr above says why.`, {
        exit_code: exit,
        log: ctx.paths.log,
      }),
      true,
    );
    return exit === EXIT_OK ? 1 : exit;
  }
  return exit;
}
