// The `codex` backend: OpenAI's Codex CLI run headless, one process per run, in the unit's
// worktree.
//
//   codex exec --json --skip-git-repo-check
//         -c sandbox_mode="<backends.codex.sandbox>" -c approval_policy="never"
//         -c mcp_servers.ve.command="$VE_BIN" -c mcp_servers.ve.args=["mcp"]
//         -c mcp_servers.ve.env_vars=["VE_RUN_TOKEN", ...]
//         -c mcp_servers.ve.default_tools_approval_mode="approve"
//         <backends.codex.args...>
//         [resume] -- [<thread id>] <prompt>
//   stdin: closed.
//
// Why each piece (docs/backends.md "## codex" says the same for users):
// - `--json` prints one event per line; the outcome comes from `turn.completed`,
//   `turn.failed` and `error`, never from the exit code (codex has exited 0 after a failed
//   turn, openai/codex#37717).
// - The session is codex's thread: its id comes in `thread.started` and is recorded on the
//   run; a later run of the unit resumes it (`exec resume <id>`) from the same worktree, the
//   directory codex files the session under.
// - Everything goes through `-c` overrides at the `exec` level, before `resume`: `exec resume`
//   takes no `--sandbox`, and the overrides then apply to both alike. The user's own config
//   (model, provider, credentials) still applies; `backends.codex.args` add to it.
// - The sandbox: workspace-write by default, checked as root in a container: the agent
//   writes in its worktree (and /tmp), not elsewhere, and has no network. read-only cannot do
//   the work; danger-full-access lifts every limit and is for machines that are sandboxes.
// - approval_policy never: a headless run has nobody to approve anything; a command the
//   sandbox refuses fails and the model sees why.
// - The MCP server is this binary (`ve mcp`), its tools approved up front: under approval
//   policy never codex refuses an MCP tool call that needs approval ("MCP tool call requires
//   approval, but approval policy is never"). Codex does not start MCP servers inside its
//   command sandbox, so `ve mcp` reaches the daemon's Unix socket where `ve agent ask` run by
//   the agent's shell cannot (the sandbox refuses AF_UNIX connect). The run's identity reaches
//   the server through `env_vars` (names only): the token never appears on a command line,
//   where /proc/<pid>/cmdline shows it to every user.
// - The prompt is the last argument after `--` (a prompt starting with "-" stays a prompt); a
//   prompt too long for one argument is replaced by a line that points at the prompt file.
// - `--skip-git-repo-check`: a worktree is a repository anyway; `ve orch backend check` runs
//   in a scratch directory that is not.
import { readdirSync, readFileSync } from "node:fs";
import type { AgentEvent, Backend, Launch, OutputReader, RunContext, RunVerdict } from "./backend.ts";
import { readVersion, resolveExecutable } from "./executables.ts";

/**
 * The oldest codex this backend runs: the version its tests run against (0.169.0). The JSONL
 * events, the MCP approval key and the namespaced MCP tools it relies on changed across the
 * 0.1xx releases, and nothing older was checked.
 */
export const MIN_CODEX_VERSION = "0.169.0";
export const DEFAULT_CODEX_SANDBOX = "workspace-write";
/** The run's identity `ve mcp` needs, passed to it by name (never by value on the command line). */
export const VE_MCP_ENV = ["VE_BIN", "VE_PROJECT_DIR", "VE_CHUNK", "VE_PHASE", "VE_RUN_ID", "VE_RUN_TOKEN"] as const;
/**
 * Linux refuses one argument longer than 128 KiB (MAX_ARG_STRLEN); a prompt over this many
 * bytes is handed over as its file instead.
 */
export const PROMPT_ARG_MAX_BYTES = 100 * 1024;
/** Lines of stderr and stray stdout kept to explain a crash. */
const TAIL_LINES = 20;
/** Longest tool output kept in a normalized tool_result event (the raw line has it all). */
const TOOL_TEXT_CHARS = 2000;

function tomlString(value: string): string {
  // JSON string syntax is valid TOML basic-string syntax for everything JSON.stringify emits.
  return JSON.stringify(value);
}

function tomlStrings(values: readonly string[]): string {
  return `[${values.map(tomlString).join(", ")}]`;
}

/** The `-c` overrides every run gets, exec or resume alike. */
export function codexOverrides(context: RunContext, sandbox: string): string[] {
  const veBin = context.env.VE_BIN ?? "ve";
  const overrides: Array<[string, string]> = [
    ["sandbox_mode", tomlString(sandbox)],
    ["approval_policy", tomlString("never")],
    ["mcp_servers.ve.command", tomlString(veBin)],
    ["mcp_servers.ve.args", tomlStrings(["mcp"])],
    ["mcp_servers.ve.env_vars", tomlStrings(VE_MCP_ENV.filter((key) => context.env[key] !== undefined))],
    ["mcp_servers.ve.default_tools_approval_mode", tomlString("approve")],
  ];
  return overrides.flatMap(([key, value]) => ["-c", `${key}=${value}`]);
}

/** The prompt as codex gets it: itself, or a pointer at its file when it is too long for an argument. */
export function promptArgument(context: RunContext): string {
  if (Buffer.byteLength(context.prompt) <= PROMPT_ARG_MAX_BYTES) return context.prompt;
  return `Your instructions for this run are in the file ${context.promptFile}. Read all of it first and follow it exactly.`;
}

/** `resume`: the thread to continue, null for a new one. */
export function codexArgv(path: string, context: RunContext, sandbox: string, resume: string | null): string[] {
  return [
    path,
    "exec",
    "--json",
    "--skip-git-repo-check",
    ...codexOverrides(context, sandbox),
    ...context.config.args,
    ...(resume ? ["resume", "--", resume] : ["--"]),
    promptArgument(context),
  ];
}

export interface TokenTotals {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
}

/**
 * The thread's token totals codex recorded before this run, from its session file
 * (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl`, last `token_count`):
 * `turn.completed` reports the whole thread's totals, so a resumed run's own tokens are the
 * difference. Null when the file cannot be found or read.
 */
export function threadTotalsBefore(env: Record<string, string>, threadId: string): TokenTotals | null {
  const file = sessionFile(env, threadId);
  if (!file) return null;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return null;
  }
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string;
    if (!line.includes('"token_count"')) continue;
    try {
      const total = JSON.parse(line)?.payload?.info?.total_token_usage;
      if (total && typeof total.input_tokens === "number") {
        return { input_tokens: total.input_tokens, cached_input_tokens: total.cached_input_tokens ?? 0, output_tokens: total.output_tokens ?? 0 };
      }
    } catch {
      // a torn last line: look further up
    }
  }
  return null;
}

/** Codex's session file of `threadId` (null when it has none: the thread cannot be resumed). */
export function sessionFile(env: Record<string, string>, threadId: string): string | null {
  const home = env.CODEX_HOME || (env.HOME ? `${env.HOME}/.codex` : undefined);
  if (!home || !/^[0-9A-Za-z-]+$/.test(threadId)) return null;
  return findRollout(`${home}/sessions`, `-${threadId}.jsonl`, 4);
}

/** The newest file under `dir` (depth-bounded) whose name ends with `suffix`. */
function findRollout(dir: string, suffix: string, depth: number): string | null {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  // Newest first: directories are dates, files start with their time.
  entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith(suffix)) return `${dir}/${entry.name}`;
  }
  if (depth === 0) return null;
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const found = findRollout(`${dir}/${entry.name}`, suffix, depth - 1);
    if (found) return found;
  }
  return null;
}

// --- reading the stream ------------------------------------------------------------------------

/** Codex's words for failures worth retrying by themselves: 5xx, overload, the network. */
const TRANSIENT =
  /high demand|exceeded retry limit|unexpected status (5\d\d|408|409)|stream disconnected|idle timeout|error sending request|connection (failed|refused|reset|closed)|timed out|at capacity|overloaded|temporarily unavailable|network/i;
/** A usage limit (the plan's allowance) or a rate limit: wait, then go on. */
const USAGE_LIMIT = /usage limit/i;
const RATE_LIMIT = /rate limit|429|too many requests/i;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/**
 * When codex says a usage limit resets: "try again at 2:22 AM" (today, codex's local time) or
 * "try again at Dec 3rd, 2026 2:22 AM". Codex shows minutes only, so the reset is taken as the
 * end of that minute. Codex runs with the daemon's environment, so its local time zone is this
 * process's. Null when the message names no time.
 */
export function parseCodexReset(message: string, now = new Date()): string | null {
  const match = /try again at\s+(?:([A-Za-z]{3})\w*\s+(\d{1,2})(?:st|nd|rd|th)?,\s*(\d{4})\s+)?(\d{1,2}):(\d{2})\s*([AP]M)/i.exec(message);
  if (!match) return null;
  const [, month, day, year, hourText, minuteText, meridiem] = match;
  let hour = Number(hourText) % 12;
  if ((meridiem as string).toUpperCase() === "PM") hour += 12;
  const minute = Number(minuteText);
  let at: Date;
  if (month && day && year) {
    const monthIndex = MONTHS.indexOf(month.toLowerCase());
    if (monthIndex < 0) return null;
    at = new Date(Number(year), monthIndex, Number(day), hour, minute);
  } else {
    at = new Date(now.getFullYear(), now.getMonth(), now.getDate(), hour, minute);
  }
  if (Number.isNaN(at.getTime())) return null;
  return new Date(at.getTime() + 60_000).toISOString();
}

function firstLine(text: string): string {
  return (text.split("\n").find((l) => l.trim() !== "") ?? "").trim();
}

interface Failure {
  message: string;
  /** From turn.failed (the turn's end) or a top-level error event. */
  source: "turn.failed" | "error";
}

export class CodexReader implements OutputReader {
  private threadId: string | undefined;
  private completed = false;
  private failure: Failure | undefined;
  /** The last top-level error that was not a retry notice. */
  private lastError: string | undefined;
  private usage: TokenTotals | undefined;
  private turns = 0;
  private question: { question: string; options?: string[] } | undefined;
  private readonly tail: string[] = [];

  constructor(
    /** The thread's totals before this run (resumed sessions): subtracted from what codex reports. */
    private readonly baseline: TokenTotals | null = null,
    private readonly version: string | null = null,
  ) {}

  private keep(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }

  line(stream: "stdout" | "stderr", text: string): AgentEvent[] {
    if (stream === "stderr") {
      if (text.trim() !== "") this.keep(`stderr: ${text}`);
      return [];
    }
    let event: any;
    try {
      event = JSON.parse(text);
    } catch {
      event = undefined;
    }
    if (!event || typeof event !== "object" || typeof event.type !== "string") {
      if (text.trim() === "") return [];
      this.keep(text);
      return [{ type: "text", text }];
    }
    switch (event.type) {
      case "thread.started":
        if (typeof event.thread_id !== "string") return [];
        this.threadId = event.thread_id;
        return [{ type: "init", session_id: event.thread_id, ...(this.version ? { version: this.version } : {}) }];
      case "turn.started":
        return [];
      case "turn.completed": {
        this.turns++;
        this.completed = true;
        this.failure = undefined;
        this.usage = totals(event.usage);
        const own = this.ownTokens();
        return [{ type: "usage", input_tokens: own.input_tokens, output_tokens: own.output_tokens, cached_input_tokens: own.cached_input_tokens }];
      }
      case "turn.failed": {
        this.turns++;
        const message = String(event.error?.message ?? this.lastError ?? "the turn failed");
        this.failure = { message, source: "turn.failed" };
        this.keep(`turn failed: ${message}`);
        return [{ type: "progress", text: `turn failed: ${message}` }];
      }
      case "error": {
        const message = String(event.message ?? "");
        // Codex retries by itself and says so: progress, not failure.
        if (/^Reconnecting\.\.\./.test(message)) return [{ type: "progress", text: message }];
        this.lastError = message;
        this.keep(`error: ${message}`);
        return [{ type: "progress", text: `error: ${message}` }];
      }
      case "item.started":
      case "item.updated":
      case "item.completed":
        return this.item(event.type, event.item);
      default:
        return [];
    }
  }

  private item(kind: string, item: any): AgentEvent[] {
    if (!item || typeof item !== "object") return [];
    const started = kind === "item.started";
    const completed = kind === "item.completed";
    switch (item.type) {
      case "agent_message":
        return completed && typeof item.text === "string" ? [{ type: "text", text: item.text }] : [];
      case "command_execution":
        if (started) return [{ type: "tool_call", name: "shell", input: { command: item.command } }];
        if (!completed) return [];
        return [{ type: "tool_result", ok: item.status === "completed" && item.exit_code === 0, ...textOf(item.aggregated_output) }];
      case "file_change":
        if (started) return [{ type: "tool_call", name: "apply_patch", input: { changes: item.changes } }];
        if (!completed) return [];
        return [{ type: "tool_result", ok: item.status === "completed", text: (item.changes ?? []).map((c: any) => `${c?.kind ?? "change"} ${c?.path ?? ""}`).join("\n") }];
      case "mcp_tool_call": {
        const name = `mcp__${item.server}__${item.tool}`;
        if (started) return [{ type: "tool_call", name, input: item.arguments }];
        if (!completed) return [];
        const ok = item.status === "completed" && !item.error && item.result?.isError !== true && item.result?.is_error !== true;
        const out: AgentEvent[] = [{ type: "tool_result", ok, ...textOf(item.error?.message ?? mcpText(item.result)) }];
        // `ve mcp` has recorded the ask with the daemon already (no `question` event, which
        // would record it a second time); the verdict says question even if that record was lost.
        if (ok && item.server === "ve" && item.tool === "ask_operator") this.question ??= askedQuestion(item.arguments);
        return out;
      }
      case "web_search":
        return started ? [{ type: "tool_call", name: "web_search", input: { query: item.query } }] : [];
      case "error":
        // Notices codex files as items (e.g. unknown model metadata): worth showing, not failures.
        return completed && typeof item.message === "string" ? [{ type: "progress", text: item.message }] : [];
      default:
        return [];
    }
  }

  private ownTokens(): TokenTotals {
    const total = this.usage ?? { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0 };
    const base = this.baseline;
    if (!base) return total;
    // A baseline above the total means it was not this thread's: report the total.
    if (base.input_tokens > total.input_tokens || base.output_tokens > total.output_tokens) return total;
    return {
      input_tokens: total.input_tokens - base.input_tokens,
      cached_input_tokens: Math.max(0, total.cached_input_tokens - base.cached_input_tokens),
      output_tokens: total.output_tokens - base.output_tokens,
    };
  }

  finish(exitCode: number | null): RunVerdict {
    const spent = {
      turns: this.turns > 0 ? this.turns : null,
      input_tokens: this.usage ? this.ownTokens().input_tokens : null,
      output_tokens: this.usage ? this.ownTokens().output_tokens : null,
    };
    if (this.question) {
      return { outcome: "question", reason: `the agent asked: ${firstLine(this.question.question)}`, question: this.question.question, ...(this.question.options ? { options: this.question.options } : {}), ...spent };
    }
    if (this.completed && !this.failure) {
      return { outcome: "completed", reason: "codex finished its turn", ...spent };
    }
    const failure = this.failure ?? (this.lastError !== undefined ? { message: this.lastError, source: "error" as const } : undefined);
    if (failure) return { ...classify(failure.message), ...spent };
    const how = exitCode === null ? "was ended by a signal" : `exited with status ${exitCode}`;
    const started = this.threadId ? "before its turn ended" : "before it started a session";
    return {
      outcome: "failed",
      reason: `codex ${how} ${started}${this.tail.length > 0 ? `; its last lines:\n${this.tail.join("\n")}` : " without printing anything"}`,
      ...spent,
    };
  }
}

/** A failure message from codex as a verdict: a limit to wait for, a transient failure, or a failure. */
export function classify(message: string, now = new Date()): Pick<RunVerdict, "outcome" | "reason" | "transient" | "reset_at"> {
  const said = firstLine(message);
  if (USAGE_LIMIT.test(message)) return { outcome: "limit", reason: `codex hit a usage limit: ${said}`, reset_at: parseCodexReset(message, now) };
  if (RATE_LIMIT.test(message)) return { outcome: "limit", reason: `the model API kept answering rate-limited after codex's own retries: ${said}`, reset_at: null };
  if (TRANSIENT.test(message)) return { outcome: "failed", reason: `the model API failed after codex's own retries: ${said}`, transient: true };
  return { outcome: "failed", reason: `codex's turn failed: ${said}` };
}

function totals(usage: any): TokenTotals {
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  return { input_tokens: n(usage?.input_tokens), cached_input_tokens: n(usage?.cached_input_tokens), output_tokens: n(usage?.output_tokens) };
}

function textOf(value: unknown): { text?: string } {
  if (typeof value !== "string" || value === "") return {};
  return { text: value.length > TOOL_TEXT_CHARS ? `${value.slice(0, TOOL_TEXT_CHARS - 1)}…` : value };
}

function mcpText(result: any): string {
  const content = Array.isArray(result?.content) ? result.content : [];
  return content.map((c: any) => (typeof c?.text === "string" ? c.text : "")).join("\n");
}

function askedQuestion(input: any): { question: string; options?: string[] } | undefined {
  if (typeof input?.question !== "string" || input.question.trim() === "") return undefined;
  const options = Array.isArray(input.options) ? input.options.filter((o: unknown): o is string => typeof o === "string" && o !== "") : [];
  return { question: input.question, ...(options.length > 0 ? { options } : {}) };
}

/** What launch() learned that the reader needs (the baseline, the version), per run. */
const launched = new WeakMap<RunContext, { baseline: TokenTotals | null; version: string | null }>();

export const codexBackend: Backend = {
  name: "codex",
  program: "codex",
  minVersion: MIN_CODEX_VERSION,
  askHow: "call the `ask_operator` tool of the `ve` MCP server with your `question` (and `options` when you offer choices); `ve agent ask` cannot reach ve from inside codex's sandbox.",
  doneHow: "call the `report_done` tool of the `ve` MCP server with a one-line `summary`, then end your turn; ve commits what you leave in the worktree.",

  async canResume(threadId: string, env: Record<string, string>): Promise<boolean> {
    return sessionFile(env, threadId) !== null;
  },

  async launch(context: RunContext): Promise<Launch> {
    const path = await resolveExecutable("codex", context.config.path, codexBackend.program, context.env.PATH);
    // Held against minVersion by the engine (and `ve orch backend check`) before any run.
    const version = await readVersion(path, context.env);
    const sandbox = context.config.sandbox ?? DEFAULT_CODEX_SANDBOX;
    // A thread codex never saved (the first run died before it did, or CODEX_HOME changed)
    // cannot be resumed: `exec resume` would fail with "no rollout found"; a new one starts,
    // and the prompt carries what the run needs (an answer, the reason for the retry).
    const resume = context.resumeSession !== null && sessionFile(context.env, context.resumeSession) !== null ? context.resumeSession : null;
    const baseline = resume ? threadTotalsBefore(context.env, resume) : null;
    launched.set(context, { baseline, version });
    return {
      argv: codexArgv(path, context, sandbox, resume),
      env: context.env,
      stdin: null,
      // The thread id is codex's to choose; it comes with `thread.started`.
      sessionId: null,
      version,
    };
  },

  reader(context: RunContext): OutputReader {
    const known = launched.get(context);
    return new CodexReader(known?.baseline ?? null, known?.version ?? null);
  },
};
