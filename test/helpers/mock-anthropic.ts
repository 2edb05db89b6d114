// A scripted mock of the Anthropic Messages API on 127.0.0.1, for running the REAL `claude`
// CLI (Claude Code) offline in tests: point it here with `claudeEnv(mock, dir)`.
//
// Stable API (other helpers' tests use it; extend, do not change):
//
//   const mock = await startMockAnthropic(script);   // random port, Bun.serve
//   mock.url                 // "http://127.0.0.1:PORT" (ANTHROPIC_BASE_URL)
//   mock.requests            // every request received, in order (any path)
//   mock.messages()          // only the POST /v1/messages ones
//   mock.unscripted          // requests no conversation/turn answered (assert it stays empty)
//   mock.setScript(script)   // replace the script (counters start over)
//   mock.release()           // ends every stream a `hang` reply holds open
//   await mock.stop()
//   claudeEnv(mock, dir, extra?) -> { env, home, configDir }   // hermetic env for `claude`
//
// A script is a list of conversations. A conversation is picked by `match` (first match
// wins; no `match` matches anything), tested against the text of every `user` message of the
// request (prompt, tool results, the CLI's own reminders), so a marker in the prompt picks
// the conversation on every turn, resumed runs included. Within it, the turn is the number of
// `assistant` messages the request already carries: turn 0 answers the first request, turn 1
// the request after the first answer (with its tool_result), and so on. A resumed session
// carries the earlier turns, so its first request lands on the next turn of the same script.
// (Claude Code 2.1.328 can append a `system`-role entry after the last user message; neither
// the turn count nor the matching depends on the last message's role.)
//
// A turn is a Reply, a function of the request returning one, or a list of Replies: the list
// is served one per request of that same turn (a retry of the same request gets the next
// one; the last repeats), e.g. `[{ status: 529 }, { status: 529 }, { text: "ok" }]`.
//
// Claude Code's own retries of 5xx/529: `CLAUDE_CODE_MAX_RETRIES` (claudeEnv sets it to
// MOCK_CLAUDE_MAX_RETRIES unless `extra` overrides it) bounds them.
// Usage limit: `{ usageLimit: { resetsAt } }` answers 429 with the headers Claude Code 2.1.328
// reads (`anthropic-ratelimit-unified-status: rejected`, `anthropic-ratelimit-unified-reset`
// in epoch seconds, `anthropic-ratelimit-unified-representative-claim`, `retry-after`).
// Claude Code reports the reset (a `rate_limit_event` line with `status: "rejected"` and
// `resetsAt`, and "You've hit your 5-hour limit · resets ..." as the result) only when it runs
// as a subscriber: add MOCK_SUBSCRIPTION_ENV to `extra`. With an API key it says only
// "API Error: Request rejected (429)", `api_error_status: 429`, no reset time.
import { mkdirSync } from "node:fs";
import { join } from "node:path";

/** One tool call the model makes. */
export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
  /** Default: a fresh `toolu_mock_N`. */
  id?: string;
}

export type Reply =
  /** Assistant text, then end_turn. */
  | { text: string; usage?: Usage; stopReason?: string }
  /** Tool call(s), optionally after some text; stop_reason tool_use. */
  | { tool: ToolCall; text?: string; usage?: Usage }
  | { tools: ToolCall[]; text?: string; usage?: Usage }
  /** An HTTP error with the API's JSON error body (529 overloaded, 500 api_error, ...). */
  | { status: number; errorType?: string; message?: string; headers?: Record<string, string> }
  /** 429 usage limit with the reset headers Claude Code reads. `resetsAt`: Date or epoch seconds. */
  | { usageLimit: { resetsAt: Date | number; claim?: string; message?: string } }
  /**
   * Starts the stream (message_start and, unless `text` is "", a first text delta) and then
   * sends nothing more until `mock.release()` or `mock.stop()`: a model that hangs mid-stream.
   */
  | { hang: true; text?: string };

export interface Usage {
  input_tokens?: number;
  output_tokens?: number;
}

export type Turn = Reply | Reply[] | ((request: RecordedRequest) => Reply);

export interface Conversation {
  /** Substring or pattern of the request's user text, or a predicate; absent: matches all. */
  match?: string | RegExp | ((request: RecordedRequest) => boolean);
  turns: Turn[];
}

/** A conversation list, or one conversation's turns (matching every request). */
export type MockScript = Conversation[] | Turn[];

export interface RecordedRequest {
  method: string;
  /** Path without the query (`/v1/messages`). */
  path: string;
  query: string;
  headers: Record<string, string>;
  /** The parsed JSON body, or null. */
  body: any;
  /** For /v1/messages: the conversation index picked and the turn number, or null. */
  conversation: number | null;
  turn: number | null;
  receivedAt: number;
  /** The usage the mock reported in its answer (none for an error), to price what it served. */
  served?: { model: string; input_tokens: number; output_tokens: number };
}

export interface MockAnthropic {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  readonly unscripted: RecordedRequest[];
  messages(): RecordedRequest[];
  setScript(script: MockScript): void;
  release(): void;
  stop(): Promise<void>;
}

/** Makes Claude Code authenticate as a subscriber (OAuth token, no API key): it then reports usage-limit resets. */
export const MOCK_SUBSCRIPTION_ENV: Readonly<Record<string, string>> = {
  CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-mock-not-a-credential",
  ANTHROPIC_API_KEY: "",
};

/** Bounds Claude Code's own retries of overloaded/5xx answers in tests. */
export const MOCK_CLAUDE_MAX_RETRIES = 2;

/** The text of one message's content (string, text blocks, tool_result contents). */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((block: any) => {
      if (block?.type === "text") return String(block.text ?? "");
      if (block?.type === "tool_result") return contentText(block.content);
      return "";
    })
    .join("\n");
}

/** The text of every `user` message of a Messages API request body, joined. */
export function userText(request: RecordedRequest): string {
  const messages: any[] = request.body?.messages ?? [];
  return messages
    .filter((m) => m?.role === "user")
    .map((m) => contentText(m.content))
    .join("\n");
}

/** The last `user` message (not the last message: a `system` entry may follow it). */
export function lastUserMessage(request: RecordedRequest): any | undefined {
  const messages: any[] = request.body?.messages ?? [];
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === "user") return messages[i];
  return undefined;
}

/** The tool_result blocks of the last user message. */
export function lastToolResults(request: RecordedRequest): Array<{ tool_use_id: string; is_error?: boolean; text: string }> {
  const content = lastUserMessage(request)?.content;
  if (!Array.isArray(content)) return [];
  return content.filter((b: any) => b?.type === "tool_result").map((b: any) => ({ tool_use_id: b.tool_use_id, is_error: b.is_error, text: contentText(b.content) }));
}

function assistantTurns(request: RecordedRequest): number {
  const messages: any[] = request.body?.messages ?? [];
  return messages.filter((m) => m?.role === "assistant").length;
}

function normalize(script: MockScript): Conversation[] {
  if (script.length === 0) return [];
  const first = script[0] as any;
  const isConversation = typeof first === "object" && first !== null && !Array.isArray(first) && Array.isArray(first.turns);
  return isConversation ? (script as Conversation[]) : [{ turns: script as Turn[] }];
}

function matches(conversation: Conversation, request: RecordedRequest): boolean {
  const m = conversation.match;
  if (m === undefined) return true;
  if (typeof m === "function") return m(request);
  const text = userText(request);
  return typeof m === "string" ? text.includes(m) : m.test(text);
}

const encoder = new TextEncoder();
function sse(event: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function errorResponse(status: number, type: string, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ type: "error", error: { type, message } }), {
    status,
    headers: { "content-type": "application/json", "request-id": `req_mock_${status}`, ...headers },
  });
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

export async function startMockAnthropic(script: MockScript = []): Promise<MockAnthropic> {
  let conversations = normalize(script);
  /** Requests served per "conversation:turn", for Reply lists. */
  let served = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  const unscripted: RecordedRequest[] = [];
  const hanging = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let toolIds = 0;
  let messageIds = 0;

  const streamReply = (reply: Exclude<Reply, { status: number } | { usageLimit: unknown }>, model: string): Response => {
    const id = `msg_mock_${++messageIds}`;
    const usage = "usage" in reply && reply.usage ? reply.usage : {};
    const start = {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: usage.input_tokens ?? 100, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
    };
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(sse("message_start", start));
        let index = 0;
        const text = "text" in reply ? reply.text : undefined;
        if ("hang" in reply) {
          if (text !== "") {
            controller.enqueue(sse("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }));
            controller.enqueue(sse("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: text ?? "Working on it" } }));
          }
          hanging.add(controller);
          return;
        }
        if (text) {
          controller.enqueue(sse("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }));
          // Two deltas: the CLI must assemble a block from pieces, as with the real API.
          const cut = Math.ceil(text.length / 2);
          for (const piece of [text.slice(0, cut), text.slice(cut)]) {
            if (piece) controller.enqueue(sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: piece } }));
          }
          controller.enqueue(sse("content_block_stop", { type: "content_block_stop", index }));
          index++;
        }
        const tools = "tools" in reply ? reply.tools : "tool" in reply ? [reply.tool] : [];
        for (const call of tools) {
          const toolId = call.id ?? `toolu_mock_${++toolIds}`;
          controller.enqueue(sse("content_block_start", { type: "content_block_start", index, content_block: { type: "tool_use", id: toolId, name: call.name, input: {} } }));
          const json = JSON.stringify(call.input);
          const cut = Math.ceil(json.length / 2);
          for (const piece of [json.slice(0, cut), json.slice(cut)]) {
            if (piece) controller.enqueue(sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } }));
          }
          controller.enqueue(sse("content_block_stop", { type: "content_block_stop", index }));
          index++;
        }
        const stopReason = tools.length > 0 ? "tool_use" : (("stopReason" in reply && reply.stopReason) || "end_turn");
        controller.enqueue(sse("message_delta", { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens ?? 20 } }));
        controller.enqueue(sse("message_stop", { type: "message_stop" }));
        controller.close();
      },
      cancel() {
        // The client went away (claude was killed): nothing more to send.
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "request-id": `req_${id}` } });
  };

  const answer = (reply: Reply, request: RecordedRequest): Response => {
    const model = String(request.body?.model ?? "claude-mock");
    if ("status" in reply) {
      const type = reply.errorType ?? ERROR_TYPES[reply.status] ?? "api_error";
      return errorResponse(reply.status, type, reply.message ?? `mock-anthropic: scripted ${reply.status} ${type}`, reply.headers);
    }
    if ("usageLimit" in reply) {
      const at = reply.usageLimit.resetsAt;
      const resetSeconds = at instanceof Date ? Math.floor(at.getTime() / 1000) : Math.floor(at);
      return errorResponse(429, "rate_limit_error", reply.usageLimit.message ?? "This request would exceed your account's rate limit. Please try again later.", {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": String(resetSeconds),
        "anthropic-ratelimit-unified-representative-claim": reply.usageLimit.claim ?? "five_hour",
        "retry-after": String(Math.max(0, resetSeconds - Math.floor(Date.now() / 1000))),
      });
    }
    if (request.body?.stream !== true) {
      request.served = { model, input_tokens: 10, output_tokens: 2 };
      // A non-streaming side request: one plain message.
      const text = "text" in reply && typeof reply.text === "string" ? reply.text : "ok";
      return Response.json({
        id: `msg_mock_${++messageIds}`,
        type: "message",
        role: "assistant",
        model,
        content: [{ type: "text", text }],
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 2 },
      });
    }
    const usage = "usage" in reply && reply.usage ? reply.usage : {};
    if (!("hang" in reply)) request.served = { model, input_tokens: usage.input_tokens ?? 100, output_tokens: usage.output_tokens ?? 20 };
    return streamReply(reply as any, model);
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    // A hanging stream must not be cut by the server's idle timeout.
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      let body: any = null;
      if (req.method === "POST") {
        const raw = await req.text();
        try {
          body = raw ? JSON.parse(raw) : null;
        } catch {
          body = null;
        }
      }
      const record: RecordedRequest = {
        method: req.method,
        path: url.pathname,
        query: url.search,
        headers: Object.fromEntries(req.headers),
        body,
        conversation: null,
        turn: null,
        receivedAt: Date.now(),
      };
      requests.push(record);
      if (url.pathname === "/v1/messages/count_tokens" && req.method === "POST") {
        return Response.json({ input_tokens: 100 });
      }
      if (url.pathname !== "/v1/messages" || req.method !== "POST") {
        return errorResponse(404, "not_found_error", `mock-anthropic: nothing at ${req.method} ${url.pathname}`);
      }
      const index = conversations.findIndex((c) => matches(c, record));
      const turn = assistantTurns(record);
      record.conversation = index < 0 ? null : index;
      record.turn = turn;
      const conversation = conversations[index];
      let step = conversation?.turns[turn];
      if (!conversation || step === undefined) {
        unscripted.push(record);
        return answer({ text: `mock-anthropic: no scripted turn ${turn} for this request` }, record);
      }
      if (Array.isArray(step)) {
        const key = `${index}:${turn}`;
        const n = served.get(key) ?? 0;
        served.set(key, n + 1);
        step = step[Math.min(n, step.length - 1)] as Reply;
      }
      const reply = typeof step === "function" ? step(record) : step;
      return answer(reply, record);
    },
  });

  const release = () => {
    for (const controller of hanging) {
      try {
        controller.close();
      } catch {
        // already gone with its client
      }
    }
    hanging.clear();
  };

  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port as number,
    requests,
    unscripted,
    messages: () => requests.filter((r) => r.path === "/v1/messages" && r.method === "POST"),
    setScript(next) {
      conversations = normalize(next);
      served = new Map();
    },
    release,
    async stop() {
      release();
      await server.stop(true);
    },
  };
}

export interface ClaudeEnv {
  env: Record<string, string>;
  home: string;
  configDir: string;
}

/**
 * Variables of the test process that would point claude at a real account or another provider:
 * unset them in an env merged over the test's own (claudeEnv's sets the mock's key and URL).
 */
export const CLAUDE_REAL_ACCOUNT: Record<string, undefined> = {
  ANTHROPIC_AUTH_TOKEN: undefined,
  CLAUDE_CODE_OAUTH_TOKEN: undefined,
  CLAUDE_CODE_USE_BEDROCK: undefined,
  CLAUDE_CODE_USE_VERTEX: undefined,
  ANTHROPIC_MODEL: undefined,
};

/**
 * The environment for running the real `claude` against `mock`, hermetic: HOME and
 * CLAUDE_CONFIG_DIR under `dir` (nothing of the real ~/.claude is read or written), an API key
 * that is not a credential, telemetry and every non-essential request off, and only PATH and
 * the locale kept from this process. `extra` adds or overrides variables.
 */
export function claudeEnv(mock: Pick<MockAnthropic, "url">, dir: string, extra: Record<string, string> = {}): ClaudeEnv {
  const home = join(dir, "home");
  const configDir = join(dir, "claude-config");
  mkdirSync(home, { recursive: true });
  mkdirSync(configDir, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    CLAUDE_CONFIG_DIR: configDir,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    TMPDIR: process.env.TMPDIR ?? "/tmp",
    LANG: "C.UTF-8",
    ANTHROPIC_BASE_URL: mock.url,
    ANTHROPIC_API_KEY: "sk-ant-mock-not-a-credential",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    CLAUDE_CODE_MAX_RETRIES: String(MOCK_CLAUDE_MAX_RETRIES),
    // No proxy from the host may catch 127.0.0.1.
    NO_PROXY: "127.0.0.1,localhost",
    ...extra,
  };
  return { env, home, configDir };
}
