// The `claude` backend: Claude Code run headless, one process per run, in the unit's worktree.
//
//   claude -p --output-format stream-json --verbose
//          --session-id <uuid> (first run) | --resume <uuid> (later runs, same worktree)
//          --permission-mode <backends.claude.permission_mode>
//          --disallowedTools EnterWorktree,ExitWorktree
//          --mcp-config '{"mcpServers":{"ve":{"command":"$VE_BIN","args":["mcp"],...}}}' --strict-mcp-config
//          --allowedTools mcp__ve__ask_operator,mcp__ve__report_done
//          <backends.claude.args...>
//   stdin: the prompt, then end of file.
//
// Why each piece (docs/backends.md "## claude" says the same for users):
// - stream-json needs --verbose in print mode (claude exits 1 without it).
// - The session id is chosen here, before the process starts, so the run records it at once;
//   sessions are tied to their directory, and the unit's worktree stays at one path for its
//   whole life, so a later run resumes from the same place. A session whose transcript never
//   got written (the first run died first) starts afresh under the same id instead of failing
//   with "No conversation found".
// - The prompt goes on stdin, not argv: no 128 KiB argument limit, not shown by ps to every
//   user, and a prompt starting with "-" is never read as an option. Stdin ends right after it.
// - The default permission mode is acceptEdits: edits inside the working directory are allowed
//   without a prompt, anything else a headless run would have to ask about is refused and
//   reported (a denial), and it works as root (bypassPermissions makes claude exit 1 there).
// - EnterWorktree/ExitWorktree are the scheduler's job: an agent making its own worktree would
//   commit where nothing lands.
// - The MCP server is this binary (`ve mcp`); --strict-mcp-config keeps the user's own MCP
//   servers out of scheduled runs; its two tools are allowed so asking never needs a prompt.
//   VE_RUN_TOKEN reaches the server by inheritance from claude's environment, never on the
//   command line (where /proc/<pid>/cmdline shows it to every user).
//
// The outcome comes from the final `result` line (is_error, subtype, terminal_reason,
// api_error_status, permission_denials), never from the exit code: claude exits 0 with
// `is_error: true` and 1 after a usage limit. No `result` line means it crashed.
import type { AgentEvent, Backend, Launch, OutputReader, RunContext, RunVerdict } from "./backend.ts";
import { readVersion, resolveExecutable } from "./executables.ts";

/** The oldest Claude Code whose stream this reader understands (tested on 2.1.328). */
export const MIN_CLAUDE_VERSION = "2.1.0";
/** The tools of `ve mcp` a run may call without a permission prompt. */
export const VE_MCP_TOOLS = ["mcp__ve__ask_operator", "mcp__ve__report_done"] as const;
/** Claude Code's own worktree tools: the scheduler owns worktrees. */
export const DISALLOWED_TOOLS = ["EnterWorktree", "ExitWorktree"] as const;
export const DEFAULT_PERMISSION_MODE = "acceptEdits";
/** Lines of stderr kept to explain a crash. */
const STDERR_TAIL_LINES = 20;
/** Longest text of a tool's input quoted in a reason. */
const INPUT_QUOTE_CHARS = 300;

/** Whether Claude Code keeps a transcript of `sessionId` (it can be resumed). */
async function transcriptExists(env: Record<string, string>, sessionId: string): Promise<boolean> {
  const configDir = env.CLAUDE_CONFIG_DIR || (env.HOME ? `${env.HOME}/.claude` : undefined);
  if (!configDir) return false;
  const glob = new Bun.Glob(`projects/*/${sessionId}.jsonl`);
  try {
    for await (const _ of glob.scan({ cwd: configDir, onlyFiles: true })) return true;
  } catch {
    // No projects directory yet: nothing to resume.
  }
  return false;
}

function quoteInput(input: unknown): string {
  const text = JSON.stringify(input) ?? "";
  return text.length > INPUT_QUOTE_CHARS ? `${text.slice(0, INPUT_QUOTE_CHARS - 1)}…` : text;
}

function firstLine(text: string): string {
  return (text.split("\n").find((l) => l.trim() !== "") ?? "").trim();
}

/** What the result reported as one sentence's tail: its text, else its errors. */
function resultText(result: any): string {
  if (typeof result.result === "string" && result.result.trim() !== "") return firstLine(result.result);
  if (Array.isArray(result.errors) && result.errors.length > 0) return result.errors.map(String).join("; ");
  return "";
}

/** HTTP statuses of the API worth retrying by themselves (timeouts, conflicts, 5xx, overloaded). */
function transientStatus(status: number | null | undefined): boolean {
  if (status === null || status === undefined) return true; // no answer at all: a network failure
  return status === 408 || status === 409 || status >= 500;
}

interface Denial {
  tool: string;
  input: unknown;
  why?: string;
}

export class ClaudeReader implements OutputReader {
  private result: any;
  private billing: "api_key" | "login" | null = null;
  private readonly stderrTail: string[] = [];
  private readonly strayStdout: string[] = [];
  private question: { question: string; options?: string[] } | undefined;
  private readonly denials: Denial[] = [];
  private rateLimitReset: number | undefined;
  private rateLimited = false;

  line(stream: "stdout" | "stderr", text: string): AgentEvent[] {
    if (stream === "stderr") {
      this.stderrTail.push(text);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
      return [];
    }
    let event: any;
    try {
      event = JSON.parse(text);
    } catch {
      event = undefined;
    }
    if (!event || typeof event !== "object") {
      if (text.trim() === "") return [];
      this.strayStdout.push(text);
      if (this.strayStdout.length > STDERR_TAIL_LINES) this.strayStdout.shift();
      return [{ type: "text", text }];
    }
    switch (event.type) {
      case "system":
        return this.system(event);
      case "rate_limit_event": {
        const info = event.rate_limit_info ?? {};
        if (info.status !== "rejected") return [];
        this.rateLimited = true;
        if (typeof info.resetsAt === "number") this.rateLimitReset = info.resetsAt;
        const when = typeof info.resetsAt === "number" ? ` until ${new Date(info.resetsAt * 1000).toISOString()}` : "";
        return [{ type: "progress", text: `usage limit reached (${info.rateLimitType ?? "unknown window"})${when}` }];
      }
      case "assistant":
        return this.assistant(event);
      case "user":
        return this.toolResults(event);
      case "result":
        return this.onResult(event);
      default:
        return [];
    }
  }

  private system(event: any): AgentEvent[] {
    switch (event.subtype) {
      case "init":
        // "none": no key was used, so the login session (subscription) pays.
        if (typeof event.apiKeySource === "string") this.billing = event.apiKeySource === "none" ? "login" : "api_key";
        return typeof event.session_id === "string"
          ? [{ type: "init", session_id: event.session_id, ...(typeof event.claude_code_version === "string" ? { version: event.claude_code_version } : {}) }]
          : [];
      case "api_retry": {
        // Claude Code retries by itself; progress, not failure.
        const status = event.error_status ? ` ${event.error_status}` : "";
        return [{ type: "progress", text: `API error${status} (${event.error ?? "unknown"}): retry ${event.attempt}/${event.max_retries} in ${event.retry_delay_ms} ms` }];
      }
      case "permission_denied": {
        const tool = String(event.tool_name ?? "a tool");
        this.denials.push({ tool, input: undefined, why: event.decision_reason ?? event.message });
        return [{ type: "progress", text: `permission denied: ${tool}: ${event.message ?? event.decision_reason ?? ""}` }];
      }
      default:
        return [];
    }
  }

  private assistant(event: any): AgentEvent[] {
    const out: AgentEvent[] = [];
    if (event.error === "rate_limit") this.rateLimited = true;
    for (const block of event.message?.content ?? []) {
      if (block?.type === "text" && typeof block.text === "string") out.push({ type: "text", text: block.text });
      if (block?.type === "tool_use") {
        out.push({ type: "tool_call", name: String(block.name), input: block.input });
        if (block.name === "AskUserQuestion") {
          const asked = askedQuestion(block.input);
          if (asked) {
            this.question ??= asked;
            out.push({ type: "question", ...asked });
          }
        }
      }
    }
    return out;
  }

  private toolResults(event: any): AgentEvent[] {
    const content = event.message?.content;
    if (!Array.isArray(content)) return [];
    return content
      .filter((b: any) => b?.type === "tool_result")
      .map((b: any) => {
        const text = typeof b.content === "string" ? b.content : Array.isArray(b.content) ? b.content.map((c: any) => c?.text ?? "").join("\n") : "";
        return { type: "tool_result" as const, ok: b.is_error !== true, ...(text ? { text: text.slice(0, 2000) } : {}) };
      });
  }

  private onResult(event: any): AgentEvent[] {
    this.result = event;
    const usage = tokens(event);
    return [{ type: "usage", ...usage, ...(typeof event.total_cost_usd === "number" ? { cost_usd: event.total_cost_usd } : {}) }];
  }

  finish(exitCode: number | null): RunVerdict {
    const r = this.result;
    if (!r) {
      const how = exitCode === null ? "was ended by a signal" : `exited with status ${exitCode}`;
      const tail = [...this.strayStdout.map((l) => l), ...this.stderrTail.map((l) => `stderr: ${l}`)].slice(-STDERR_TAIL_LINES);
      return {
        outcome: "failed",
        reason: `claude ${how} without a result${tail.length > 0 ? `; its last lines:\n${tail.join("\n")}` : ""}`,
      };
    }
    const spent = {
      cost_usd: typeof r.total_cost_usd === "number" ? r.total_cost_usd : null,
      session_cost_usd: typeof r.total_cost_usd === "number" ? r.total_cost_usd : null,
      models: r.modelUsage && typeof r.modelUsage === "object" ? Object.keys(r.modelUsage) : [],
      billing: this.billing,
      turns: typeof r.num_turns === "number" ? r.num_turns : null,
      ...tokens(r),
    };
    const said = resultText(r);
    if (this.question) {
      return { outcome: "question", reason: `the agent asked: ${firstLine(this.question.question)}`, question: this.question.question, ...(this.question.options ? { options: this.question.options } : {}), ...spent };
    }
    const denials: Denial[] = Array.isArray(r.permission_denials) && r.permission_denials.length > 0
      ? r.permission_denials.map((d: any) => ({ tool: String(d.tool_name ?? "a tool"), input: d.tool_input, why: this.denials.find((x) => x.tool === d.tool_name)?.why }))
      : this.denials;
    if (denials.length > 0) {
      const listed = denials.map((d) => `${d.tool}${d.input === undefined ? "" : ` ${quoteInput(d.input)}`}${d.why ? ` (${d.why})` : ""}`).join("; ");
      return {
        outcome: "failed",
        reason: `Claude Code was refused ${denials.length === 1 ? "a tool call" : `${denials.length} tool calls`}: ${listed}`,
        permission: denials.map((d) => ({ tool: d.tool, input: d.input ?? null })),
        ...spent,
      };
    }
    if (this.rateLimited || r.api_error_status === 429) {
      return {
        outcome: "limit",
        reason: said || "Claude Code reported a usage or rate limit",
        reset_at: this.rateLimitReset !== undefined ? new Date(this.rateLimitReset * 1000).toISOString() : null,
        ...spent,
      };
    }
    const failedTerminal = typeof r.terminal_reason === "string" && r.terminal_reason !== "completed";
    if (r.is_error === true || r.subtype !== "success" || failedTerminal) {
      if (r.terminal_reason === "api_error") {
        const status = typeof r.api_error_status === "number" ? r.api_error_status : null;
        return {
          outcome: "failed",
          reason: `the model API failed${status ? ` (${status})` : ""} after Claude Code's own retries: ${said || "no details"}`,
          transient: transientStatus(status),
          ...spent,
        };
      }
      const what: Record<string, string> = {
        error_max_turns: "reached its turn limit (--max-turns)",
        error_max_budget_usd: "reached its budget (--max-budget-usd)",
        error_during_execution: "failed while it ran",
      };
      const why = what[r.subtype] ?? (failedTerminal ? `stopped (${r.terminal_reason})` : "reported an error");
      const tail = said || (this.stderrTail.length > 0 ? this.stderrTail.slice(-5).join(" ") : "");
      return { outcome: "failed", reason: `Claude Code ${why}${tail ? `: ${tail}` : ""}`, ...spent };
    }
    return { outcome: "completed", reason: `Claude Code finished${said ? `: ${said.slice(0, 200)}` : ""}`, ...spent };
  }
}

function tokens(result: any): { input_tokens: number | null; output_tokens: number | null } {
  const u = result?.usage;
  if (!u || typeof u !== "object") return { input_tokens: null, output_tokens: null };
  const n = (v: unknown) => (typeof v === "number" ? v : 0);
  // Cached input is input the model read too: counted with it.
  return {
    input_tokens: n(u.input_tokens) + n(u.cache_creation_input_tokens) + n(u.cache_read_input_tokens),
    output_tokens: typeof u.output_tokens === "number" ? u.output_tokens : null,
  };
}

/** AskUserQuestion's input (`questions[{question, options[{label}]}]`) as one question. */
function askedQuestion(input: any): { question: string; options?: string[] } | undefined {
  const questions: any[] = Array.isArray(input?.questions) ? input.questions : [];
  const texts = questions.map((q) => (typeof q?.question === "string" ? q.question : "")).filter((t) => t !== "");
  if (texts.length === 0) return undefined;
  const options = questions.length === 1 && Array.isArray(questions[0]?.options)
    ? questions[0].options.map((o: any) => (typeof o === "string" ? o : String(o?.label ?? ""))).filter((o: string) => o !== "")
    : [];
  return { question: texts.join("\n"), ...(options.length > 0 ? { options } : {}) };
}

/** The inline --mcp-config that starts `ve mcp` for this run. */
export function mcpConfig(context: RunContext): string {
  const veBin = context.env.VE_BIN ?? "ve";
  const env: Record<string, string> = {};
  // Named explicitly so the server knows its run even if claude ever stops passing its own
  // environment on; the token stays out (inherited only, see above).
  for (const key of ["VE_PROJECT_DIR", "VE_CHUNK", "VE_PHASE", "VE_RUN_ID"]) if (context.env[key]) env[key] = context.env[key] as string;
  // alwaysLoad: claude would otherwise defer the server's tools behind its tool search, where
  // the first request lists no mcp__ve__* tool and a model may never find ask_operator.
  return JSON.stringify({ mcpServers: { ve: { type: "stdio", command: veBin, args: ["mcp"], env, alwaysLoad: true } } });
}

export function claudeArgv(path: string, context: RunContext, session: { id: string; resume: boolean }, permissionMode: string): string[] {
  return [
    path,
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    ...(session.resume ? ["--resume", session.id] : ["--session-id", session.id]),
    "--permission-mode",
    permissionMode,
    "--disallowedTools",
    DISALLOWED_TOOLS.join(","),
    "--mcp-config",
    mcpConfig(context),
    "--strict-mcp-config",
    "--allowedTools",
    VE_MCP_TOOLS.join(","),
    ...context.config.args,
  ];
}

export const claudeBackend: Backend = {
  name: "claude",
  minVersion: MIN_CLAUDE_VERSION,
  program: "claude",
  askHow: "call the `mcp__ve__ask_operator` tool with your `question` (and `options` when you offer choices).",
  doneHow: "call the `mcp__ve__report_done` tool with a one-line `summary`, then end your turn; ve commits what you leave in the worktree.",

  canResume: (sessionId: string, env: Record<string, string>) => transcriptExists(env, sessionId),

  async launch(context: RunContext): Promise<Launch> {
    const path = await resolveExecutable("claude", context.config.path, claudeBackend.program, context.env.PATH);
    // Held against minVersion by the engine (and `ve orch backend check`) before any run.
    const version = await readVersion(path, context.env);
    const resume = context.resumeSession !== null && (await transcriptExists(context.env, context.resumeSession));
    const session = { id: context.resumeSession ?? crypto.randomUUID(), resume };
    const mode = context.config.permissionMode ?? DEFAULT_PERMISSION_MODE;
    return {
      argv: claudeArgv(path, context, session, mode),
      env: context.env,
      stdin: context.prompt,
      sessionId: session.id,
      version,
    };
  },

  reader(): OutputReader {
    return new ClaudeReader();
  },
};
