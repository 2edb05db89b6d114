// The seam between the engine and an agent CLI. A backend turns one run (its prompt, its
// worktree, the session to resume) into a process to start, and that process's output into
// normalized events and, at the end, an outcome. The engine never looks at a CLI's own output
// format; the backend never touches the store, git or the scheduler. One file per backend.
import type { Phase } from "../domain.ts";

/** How a run ended, decided from the agent's own structured signals (never its exit code alone). */
export const OUTCOMES = ["completed", "question", "failed", "limit", "timeout", "interrupted"] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** What every backend's output is normalized into; the raw line is always kept beside it. */
export type AgentEvent =
  | { type: "init"; session_id: string; version?: string }
  | { type: "text"; text: string }
  | { type: "tool_call"; name: string; input: unknown }
  | { type: "tool_result"; ok: boolean; text?: string }
  | { type: "question"; question: string; options?: string[] }
  | { type: "usage"; input_tokens?: number | null; output_tokens?: number | null; cached_input_tokens?: number | null; cost_usd?: number }
  /** What the CLI did on its own meanwhile (retrying the API, a limit, a refused tool): progress, not an outcome. */
  | { type: "progress"; text: string }
  | { type: "result"; outcome: Outcome; reason: string };

export interface RunVerdict {
  outcome: Outcome;
  /** One sentence for a person: why the run ended this way. */
  reason: string;
  /** A failure worth retrying by itself (overloaded, 5xx, network), within the retry caps. */
  transient?: boolean;
  /** For `limit`: when the agent said its usage limit resets (ISO-8601), if it did. */
  reset_at?: string | null;
  question?: string;
  options?: string[];
  /**
   * Tool calls the CLI refused (its permission mode did not allow them): the unit needs a
   * person (attention `permission`), whatever the outcome says.
   */
  permission?: Array<{ tool: string; input: unknown }>;
  cost_usd?: number | null;
  /**
   * A running total over the session (Claude Code's `total_cost_usd` across `--resume`): the
   * engine stores the difference to the session's previous total as the run's own cost.
   */
  session_cost_usd?: number | null;
  /** The models the run used, as the CLI reported them. */
  models?: string[];
  /** How the run was billed, as the CLI reported it. */
  billing?: "api_key" | "login" | null;
  turns?: number | null;
  input_tokens?: number | null;
  output_tokens?: number | null;
}

export interface BackendConfig {
  /** The executable; undefined means the backend's default name, looked up on PATH. */
  path?: string;
  /** Extra arguments from `backends.<name>.args`. */
  args: readonly string[];
  /** `backends.<name>.permission_mode`, for backends that have one. */
  permissionMode?: string;
  /** `backends.<name>.sandbox`, for backends that have one (codex). */
  sandbox?: string;
}

export interface RunContext {
  runId: string;
  chunk: string;
  phase: Phase;
  /** The unit's worktree: the agent's working directory. */
  worktree: string;
  projectDir: string;
  prompt: string;
  /** The prompt written to a file (for agents that read it from there). */
  promptFile: string;
  /** The session an earlier run of this unit established, to resume; null for a fresh one. */
  resumeSession: string | null;
  /**
   * The operator's reply when this run exists because of it (already at the top of `prompt`):
   * a backend resuming `resumeSession` may send it alone as the user's next turn.
   */
  answer?: { question: string; answer: string } | null;
  /** The environment every agent gets (see agents/environment.ts). */
  env: Record<string, string>;
  config: BackendConfig;
}

export interface Launch {
  argv: string[];
  env: Record<string, string>;
  /** Written to stdin, then end of file; null closes stdin at once. */
  stdin: string | null;
  /** A session id known before any output (pre-assigned), recorded on the run at once. */
  sessionId: string | null;
  /** The CLI's version when the backend read it before starting. */
  version: string | null;
}

/** Reads one run's output as it arrives and decides the outcome when the process has ended. */
export interface OutputReader {
  line(stream: "stdout" | "stderr", text: string): AgentEvent[];
  /** `exitCode` null: ended by a signal. */
  finish(exitCode: number | null): RunVerdict;
}

export interface Backend {
  readonly name: string;
  /**
   * The oldest version of its CLI this backend works with (`major.minor.patch`). When set, the
   * version its launch() reports is compared with it (agents/executables.ts `requireMinVersion`)
   * before any run starts, by the engine and by `ve orch backend check`: an older CLI is an
   * attention record saying how to upgrade it, never a run. A launch() with this set must
   * report `version` (`readVersion` reads `--version`); null counts as unknown and passes.
   */
  readonly minVersion?: string;
  /**
   * The program's usual name, looked up on the agent's PATH when `backends.<name>.path` is not
   * set (what launch() passes to resolveExecutable as its default). Absent: the path must be
   * configured (the command backend), and no `--version` is ever run for it.
   */
  readonly program?: string;
  /** For the prompt's preamble: how this backend's agent asks the operator. */
  readonly askHow: string;
  /** For the prompt's preamble: how this backend's agent reports its phase done. */
  readonly doneHow: string;
  /**
   * Whether `sessionId`, the session an earlier run of the unit established, can be resumed
   * with `env` (its transcript is still there); launch() resumes exactly then. Read before the
   * prompt is put together: a new session must be told what the old one knew (the operator's
   * answers of the phase). Absent: the backend has no sessions (the command backend).
   */
  canResume?(sessionId: string, env: Record<string, string>): Promise<boolean>;
  launch(context: RunContext): Promise<Launch>;
  reader(context: RunContext): OutputReader;
}
