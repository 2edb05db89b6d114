// `ve mcp`: the binary as a stdio MCP server for the agent CLIs (Claude Code, Codex, ...). A
// hand-rolled JSON-RPC 2.0 loop over newline-delimited messages rather than the SDK: the
// SDK's stdio transport over Bun's process.stdin has lost early input and failed with EPERM
// under other agent CLIs (docs: AGENT_CLIS.md 3.3), and the protocol needed here is small:
// initialize (with version negotiation), notifications/initialized, ping, tools/list,
// tools/call. Nothing but protocol messages goes to stdout; diagnostics go to stderr.
//
// The tools record a call about the agent's own run with the daemon and return at once, so no
// CLI's tool timeout runs while a person thinks; the agent is told to end its turn.
import { writeSync } from "node:fs";
import { VeError } from "../errors.ts";
import { AGENT_LIMITS as QUESTION_LIMITS } from "../domain.ts";
import { VERSION } from "../version.ts";

/** Protocol revisions this server speaks, newest first; a client asking for another gets the newest. */
export const PROTOCOL_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"] as const;

/** A message larger than this (one line) is refused without buffering more of it. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export const JSONRPC_PARSE_ERROR = -32700;
export const JSONRPC_INVALID_REQUEST = -32600;
export const JSONRPC_METHOD_NOT_FOUND = -32601;
export const JSONRPC_INVALID_PARAMS = -32602;
export const JSONRPC_INTERNAL_ERROR = -32603;

export interface ToolResult {
  text: string;
  isError: boolean;
}

/** What the tools do: record the call with the daemon (the command supplies it). */
export interface ToolHandlers {
  ask(question: string, options: string[]): Promise<string>;
  done(summary: string): Promise<string>;
}

const ASK_DESCRIPTION =
  "Ask the human operator a question you cannot settle yourself: a decision between approaches, missing information, " +
  "or permission for something outside your task. It returns at once (the operator is not waiting at a terminal). " +
  "After calling it, END YOUR TURN immediately: make no more tool calls. The operator's answer arrives as your next " +
  "message in this conversation. Offer `options` when the answer is a choice.";
const DONE_DESCRIPTION =
  "Report that the work of this phase is done, with a short summary of what you did and how you checked it. After " +
  "calling it, end your turn with a brief final message.";

export const TOOLS = [
  {
    name: "ask_operator",
    title: "Ask the operator",
    description: ASK_DESCRIPTION,
    inputSchema: {
      type: "object",
      properties: {
        question: {
          type: "string",
          minLength: 1,
          maxLength: QUESTION_LIMITS.question,
          description: "The question, complete enough to answer without reading your conversation.",
        },
        options: {
          type: "array",
          items: { type: "string", minLength: 1, maxLength: QUESTION_LIMITS.option },
          maxItems: QUESTION_LIMITS.options,
          description: "Choices the operator can pick from, if the answer is one of them.",
        },
      },
      required: ["question"],
      additionalProperties: false,
    },
    // It changes nothing in the workspace (it records a message with ve), so a CLI that
    // auto-approves read-only tools needs no approval for it.
    annotations: { title: "Ask the operator", readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  },
  {
    name: "report_done",
    title: "Report the phase done",
    description: DONE_DESCRIPTION,
    inputSchema: {
      type: "object",
      properties: {
        summary: {
          type: "string",
          maxLength: QUESTION_LIMITS.summary,
          description: "What you did and how you checked it, in a few sentences.",
        },
      },
      required: ["summary"],
      additionalProperties: false,
    },
    annotations: { title: "Report the phase done", readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  },
] as const;

type Id = string | number | null;

interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

type Message = Record<string, unknown>;

function isObject(value: unknown): value is Message {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function validId(value: unknown): value is string | number {
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value));
}

/** The arguments of a tool call checked against its schema; a sentence for the model when they do not fit. */
function checkArguments(name: string, args: Message): { ok: true; value: Message } | { ok: false; problem: string } {
  const tool = TOOLS.find((t) => t.name === name);
  if (!tool) return { ok: false, problem: `no tool ${name}` };
  const properties = tool.inputSchema.properties as Record<string, { type: string; minLength?: number; maxLength?: number; maxItems?: number; items?: { minLength: number; maxLength: number } }>;
  for (const key of Object.keys(args)) {
    if (!(key in properties)) return { ok: false, problem: `${name} takes no argument '${key}' (it takes ${Object.keys(properties).join(", ")})` };
  }
  for (const required of tool.inputSchema.required) {
    if (args[required] === undefined) return { ok: false, problem: `${name} needs the argument '${required}'` };
  }
  for (const [key, schema] of Object.entries(properties)) {
    const value = args[key];
    if (value === undefined) continue;
    if (schema.type === "string") {
      if (typeof value !== "string") return { ok: false, problem: `'${key}' must be a string` };
      if (schema.minLength !== undefined && value.trim().length < schema.minLength) return { ok: false, problem: `'${key}' must not be empty` };
      if (schema.maxLength !== undefined && value.length > schema.maxLength) return { ok: false, problem: `'${key}' must be at most ${schema.maxLength} characters` };
    } else if (schema.type === "array") {
      if (!Array.isArray(value)) return { ok: false, problem: `'${key}' must be a list of strings` };
      if (schema.maxItems !== undefined && value.length > schema.maxItems) return { ok: false, problem: `'${key}' may hold at most ${schema.maxItems} entries` };
      for (const item of value) {
        if (typeof item !== "string" || item.trim() === "") return { ok: false, problem: `every entry of '${key}' must be a non-empty string` };
        if (schema.items && item.length > schema.items.maxLength) return { ok: false, problem: `every entry of '${key}' must be at most ${schema.items.maxLength} characters` };
      }
    }
  }
  return { ok: true, value: args };
}

export class McpServer {
  private initialized = false;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly handlers: ToolHandlers,
    private readonly send: (message: Message) => void,
    private readonly log: (line: string) => void,
  ) {}

  /** Every call still being answered (awaited at end of input before the process exits). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** One line of input: a message, a batch of them, or garbage (answered with a parse error). */
  line(text: string): void {
    if (text.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.send(this.errorResponse(null, { code: JSONRPC_PARSE_ERROR, message: "Parse error: the line is not JSON" }));
      return;
    }
    if (Array.isArray(parsed)) {
      if (parsed.length === 0) {
        this.send(this.errorResponse(null, { code: JSONRPC_INVALID_REQUEST, message: "Invalid Request: an empty batch" }));
        return;
      }
      const work = Promise.all(parsed.map((m) => this.handle(m))).then((answers) => {
        const responses = answers.filter((a): a is Message => a !== undefined);
        if (responses.length > 0) this.sendBatch(responses);
      });
      this.track(work);
      return;
    }
    this.track(
      this.handle(parsed).then((answer) => {
        if (answer) this.send(answer);
      }),
    );
  }

  private sendBatch(responses: Message[]): void {
    (this.send as (m: unknown) => void)(responses);
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error) => this.log(`ve mcp: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private errorResponse(id: Id, error: RpcError): Message {
    return { jsonrpc: "2.0", id, error };
  }

  private result(id: Id, result: unknown): Message {
    return { jsonrpc: "2.0", id, result };
  }

  /** The answer to one message; undefined for notifications and for responses the client sent. */
  private async handle(message: unknown): Promise<Message | undefined> {
    if (!isObject(message)) return this.errorResponse(null, { code: JSONRPC_INVALID_REQUEST, message: "Invalid Request: a message must be a JSON object" });
    const hasId = "id" in message;
    const id: Id = hasId && validId(message.id) ? message.id : null;
    if (message.jsonrpc !== "2.0") return hasId || !("method" in message) ? this.errorResponse(id, { code: JSONRPC_INVALID_REQUEST, message: 'Invalid Request: "jsonrpc" must be "2.0"' }) : undefined;
    if (!("method" in message)) {
      // A response to a request of ours; this server sends none, so there is nothing to match.
      if ("result" in message || "error" in message) return undefined;
      return this.errorResponse(id, { code: JSONRPC_INVALID_REQUEST, message: 'Invalid Request: no "method"' });
    }
    if (typeof message.method !== "string") return this.errorResponse(id, { code: JSONRPC_INVALID_REQUEST, message: 'Invalid Request: "method" must be a string' });
    if (hasId && !validId(message.id)) return this.errorResponse(null, { code: JSONRPC_INVALID_REQUEST, message: 'Invalid Request: "id" must be a string or a number' });
    const params = message.params;
    if (params !== undefined && !isObject(params) && !Array.isArray(params)) {
      return hasId ? this.errorResponse(id, { code: JSONRPC_INVALID_REQUEST, message: 'Invalid Request: "params" must be an object' }) : undefined;
    }
    if (!hasId) {
      this.notification(message.method);
      return undefined;
    }
    try {
      return this.result(id, await this.request(message.method, isObject(params) ? params : {}));
    } catch (error) {
      if (error instanceof RpcFailure) return this.errorResponse(id, error.error);
      this.log(`ve mcp: ${message.method} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return this.errorResponse(id, { code: JSONRPC_INTERNAL_ERROR, message: `Internal error: ${error instanceof Error ? error.message : String(error)}` });
    }
  }

  private notification(method: string): void {
    if (method === "notifications/initialized") this.initialized = true;
    // Everything else a client may notify (cancelled, progress, roots changed) needs no action:
    // every call here answers at once.
  }

  private async request(method: string, params: Message): Promise<unknown> {
    switch (method) {
      case "initialize": {
        const asked = params.protocolVersion;
        if (typeof asked !== "string") throw new RpcFailure(JSONRPC_INVALID_PARAMS, 'Invalid params: "protocolVersion" must be a string');
        const version = (PROTOCOL_VERSIONS as readonly string[]).includes(asked) ? asked : PROTOCOL_VERSIONS[0];
        return {
          protocolVersion: version,
          capabilities: { tools: { listChanged: false } },
          serverInfo: { name: "ve", title: "ve orchestrator", version: VERSION },
          instructions:
            "You run inside a ve work unit. To ask the human operator anything, call ask_operator and then end your turn at once; " +
            "the answer comes as your next message. When the phase is done, call report_done with a summary.",
        };
      }
      case "ping":
        return {};
      case "tools/list":
        return { tools: TOOLS };
      case "tools/call":
        return this.callTool(params);
      default:
        throw new RpcFailure(JSONRPC_METHOD_NOT_FOUND, `Method not found: ${method}`);
    }
  }

  private async callTool(params: Message): Promise<unknown> {
    const name = params.name;
    if (typeof name !== "string") throw new RpcFailure(JSONRPC_INVALID_PARAMS, 'Invalid params: "name" must be a string');
    if (!TOOLS.some((t) => t.name === name)) {
      throw new RpcFailure(JSONRPC_INVALID_PARAMS, `Unknown tool: ${name} (this server offers ${TOOLS.map((t) => t.name).join(", ")})`);
    }
    const args = params.arguments === undefined ? {} : params.arguments;
    if (!isObject(args)) return toolResult({ text: `The arguments of ${name} must be a JSON object.`, isError: true });
    const checked = checkArguments(name, args);
    if (!checked.ok) return toolResult({ text: `Invalid arguments: ${checked.problem}.`, isError: true });
    try {
      const text =
        name === "ask_operator"
          ? await this.handlers.ask(args.question as string, (args.options as string[] | undefined) ?? [])
          : await this.handlers.done(args.summary as string);
      return toolResult({ text, isError: false });
    } catch (error) {
      // Told to the model as the tool's result: it can say so, or try `ve agent` instead.
      const text = error instanceof VeError ? error.message : `ve mcp failed: ${error instanceof Error ? error.message : String(error)}`;
      if (!(error instanceof VeError)) this.log(`ve mcp: ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return toolResult({ text, isError: true });
    }
  }

  /** Whether the client has said it is initialized (only reported; requests are answered either way). */
  get ready(): boolean {
    return this.initialized;
  }
}

class RpcFailure extends Error {
  readonly error: RpcError;
  constructor(code: number, message: string) {
    super(message);
    this.error = { code, message };
  }
}

function toolResult(result: ToolResult): unknown {
  return { content: [{ type: "text", text: result.text }], isError: result.isError };
}

/**
 * Splits a byte stream into lines without ever holding more than one over-long line's worth:
 * a line over MAX_MESSAGE_BYTES is dropped (answered by `onTooLong`) up to its newline.
 */
export class LineSplitter {
  private parts: Uint8Array[] = [];
  private size = 0;
  private skipping = false;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: () => void,
    private readonly maxBytes = MAX_MESSAGE_BYTES,
  ) {}

  push(bytes: Uint8Array): void {
    let start = 0;
    for (;;) {
      const newline = bytes.indexOf(10, start);
      if (newline === -1) {
        this.keep(bytes.subarray(start));
        return;
      }
      this.keep(bytes.subarray(start, newline));
      this.flush();
      start = newline + 1;
    }
  }

  /** End of input: a last line without a newline still counts. */
  end(): void {
    if (this.size > 0 || this.skipping) this.flush();
  }

  private keep(bytes: Uint8Array): void {
    if (bytes.length === 0 || this.skipping) return;
    if (this.size + bytes.length > this.maxBytes) {
      this.parts = [];
      this.size = 0;
      this.skipping = true;
      this.onTooLong();
      return;
    }
    this.parts.push(bytes.slice());
    this.size += bytes.length;
  }

  private flush(): void {
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    const whole = this.parts.length === 1 ? (this.parts[0] as Uint8Array) : new Uint8Array(Bun.concatArrayBuffers(this.parts));
    this.parts = [];
    this.size = 0;
    let text = this.decoder.decode(whole);
    if (text.endsWith("\r")) text = text.slice(0, -1);
    this.onLine(text);
  }
}

/** Writes one message as one line to fd 1, whole, even when the pipe is non-blocking and full. */
export async function writeLine(fd: number, text: string): Promise<void> {
  let bytes = new TextEncoder().encode(`${text}\n`);
  while (bytes.length > 0) {
    try {
      const written = writeSync(fd, bytes);
      bytes = bytes.subarray(written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      await Bun.sleep(1);
    }
  }
}
