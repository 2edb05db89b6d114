// The environment an agent runs in: the user's own (an agent needs the same PATH, tool
// configuration and credentials the user works with), minus what would point git somewhere
// else than the agent's worktree, plus what tells it where it is and who it is.
import { GIT_REDIRECTING_VARIABLES } from "../git/git.ts";

export interface AgentIdentity {
  projectDir: string;
  chunk: string;
  phase: string;
  runId: string;
  /** The run's own secret: an agent can speak to the daemon only for its own run. */
  runToken: string;
  /** This binary, so `ve agent ...` reaches the daemon that runs the agent. */
  veBinary: string;
}

/** Variables that carry the daemon's own session or project into the agent; never passed on. */
const DAEMON_ONLY_VARIABLES: readonly string[] = ["VE_REQUEST_TIMEOUT_MS"];

export function agentEnvironment(
  identity: AgentIdentity,
  base: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value === undefined) continue;
    if (GIT_REDIRECTING_VARIABLES.includes(key) || DAEMON_ONLY_VARIABLES.includes(key)) continue;
    env[key] = value;
  }
  const binDir = identity.veBinary.slice(0, identity.veBinary.lastIndexOf("/")) || "/";
  return {
    ...env,
    // `ve` first on PATH: the agent reaches this daemon's binary, not some other install.
    PATH: env.PATH ? `${binDir}:${env.PATH}` : binDir,
    VE_BIN: identity.veBinary,
    VE_PROJECT_DIR: identity.projectDir,
    VE_CHUNK: identity.chunk,
    VE_PHASE: identity.phase,
    VE_RUN_ID: identity.runId,
    VE_RUN_TOKEN: identity.runToken,
  };
}
