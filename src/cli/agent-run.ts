// Who an agent is, from the environment ve starts it with (agents/environment.ts): the run it
// speaks for and the daemon to tell. Shared by `ve agent` and `ve mcp`; imports only the client.
import { Client } from "../client/client.ts";
import { VeError } from "../errors.ts";
import { projectPaths } from "../project/paths.ts";

export interface AgentRun {
  projectDir: string;
  runId: string;
  token: string;
  chunk: string | undefined;
}

/** The variables a run must have; the first is enough to tell a run from a shell. */
const RUN_VARIABLES = ["VE_RUN_ID", "VE_RUN_TOKEN", "VE_PROJECT_DIR"] as const;

/** The run this process belongs to, or `not_in_run` naming what is missing. */
export function agentRun(command: string, env: Readonly<Record<string, string | undefined>> = process.env): AgentRun {
  const missing = RUN_VARIABLES.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new VeError(
      "not_in_run",
      `${command} works only inside an agent run that ve started (it speaks for that run): ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set. ` +
        "A person answers with `ve orch answer` and inspects units with `ve orch ps`.",
      { missing },
    );
  }
  return {
    projectDir: env.VE_PROJECT_DIR as string,
    runId: env.VE_RUN_ID as string,
    token: env.VE_RUN_TOKEN as string,
    chunk: env.VE_CHUNK,
  };
}

export function agentClient(run: AgentRun, onWarning?: (message: string) => void): Client {
  return new Client(projectPaths(run.projectDir), onWarning ? { onWarning } : {});
}
