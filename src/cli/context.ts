// What every command needs: the project it acts on, a client for its daemon, and whether
// output is JSON.
import { Client, type Reply } from "../client/client.ts";
import { type ProjectPaths, projectPaths, resolveProjectRoot } from "../project/paths.ts";
import { logger, print, printBytes } from "./output.ts";

export interface CommandContext {
  paths: ProjectPaths;
  client: Client;
  json: boolean;
}

export async function commandContext(args: { "project-dir"?: unknown; json?: unknown }): Promise<CommandContext> {
  const flag = typeof args["project-dir"] === "string" ? args["project-dir"] : undefined;
  const root = await resolveProjectRoot({ flag, env: process.env.VE_PROJECT_DIR, cwd: process.cwd() });
  const paths = projectPaths(root);
  const client = new Client(paths, { onWarning: (message) => logger().warn(message) });
  return { paths, client, json: args.json === true };
}

/** Prints a reply: its body as the daemon sent it with --json, else `human(data)`. */
export async function emit<T>(ctx: CommandContext, reply: Reply<T>, human: (data: T) => string): Promise<void> {
  if (ctx.json) await printBytes(reply.bytes);
  else print(human(reply.data));
}

/** Prints a document the CLI builds itself: `value` as JSON with --json, else `human`. */
export function emitValue<T>(ctx: CommandContext, value: T, human: (value: T) => string): void {
  print(ctx.json ? JSON.stringify(value) : human(value));
}
