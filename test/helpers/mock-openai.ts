// A scripted mock of the OpenAI Responses API, as the real `codex` CLI (0.169.0) uses it, on
// 127.0.0.1 at a random port. Tests run the real codex against it: no network, no account.
//
// What codex does (observed on this machine with codex-cli 0.169.0):
// - One `POST /v1/responses` per model call, `"stream": true`, `Accept: text/event-stream`,
//   `Authorization: Bearer <the env_key's value>`, headers `session-id` / `thread-id` = the
//   thread id it prints in `thread.started`. The body's `input` is the whole conversation:
//   developer messages, the environment context, the user prompt(s), then the model's earlier
//   items and the tools' outputs (`function_call_output`, `custom_tool_call_output`). A resumed
//   session (`codex exec resume`) sends the earlier turns again in `input`.
// - It reads SSE events: `response.created`, `response.output_item.added` /
//   `response.output_item.done` (a `message`, a `function_call` or a `custom_tool_call`),
//   `response.output_text.delta`, and ends the model call at `response.completed` (whose
//   `response.usage` it reports as the turn's tokens) or `response.failed`. A stream that ends
//   without `response.completed` is an error it retries (`stream_max_retries`).
// - A tool call makes codex run the tool and POST again with its output; the turn (one
//   `codex exec`) ends when a model call answers without a tool call.
// - An HTTP error status: 5xx and 429 are retried (`request_max_retries`); a 429 whose body is
//   `{"error":{"type":"usage_limit_reached","resets_at":<unix s>}}` is a usage limit.
// - It asks nothing else of the server in exec mode (no models list for a custom provider);
//   any other request is answered 404 and recorded, so a test can see it.
//
// Script: a list of steps, each one model call's answer, consumed in order by the requests a
// route matches. `reply.*` builds the steps. Several agents at once (e.g. a diamond of units)
// each get their own route, matched on the request (e.g. the chunk name in the prompt).
//
//   const mock = await startMockOpenAI([reply.shell("printf hi > a.txt"), reply.text("done")]);
//   const run = codexMockSetup(mock, dir);   // { env, args } for the real codex
//   ... spawn codex exec --json ...args ... with env ...
//   mock.requests            // every request, parsed
//   await mock.stop();
import type { Server } from "bun";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";

/** Token counts a `response.completed` reports (codex sums them into `turn.completed.usage`). */
export interface MockUsage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
}

/** One output item of a model call. */
export type MockItem =
  | { kind: "text"; text: string }
  /** A call of a function tool: `exec_command` (the shell), `mcp__<server>__<tool>` (an MCP tool), ... */
  | { kind: "function_call"; name: string; arguments: unknown; namespace?: string }
  /** A call of a freeform tool: `apply_patch` with the patch text. */
  | { kind: "custom_tool_call"; name: string; input: string };

/** One model call's answer. */
export type MockStep =
  | { kind: "response"; items: MockItem[]; usage?: Partial<MockUsage> }
  /** An HTTP error status with a JSON body (codex retries 5xx and 429 by itself). */
  | { kind: "status"; status: number; body: unknown; headers?: Record<string, string> }
  /** A stream that starts and then fails with `response.failed` carrying this error. */
  | { kind: "failed"; error: { code?: string; type?: string; message: string } }
  /** A stream that starts (`response.created`, some text) and then never ends: for killing codex mid-stream. */
  | { kind: "hang"; text?: string }
  /** Decides at request time (e.g. from what the request carries). */
  | { kind: "dynamic"; decide: (request: RecordedRequest) => MockStep };

export const reply = {
  /** The model says `text` and ends its turn. */
  text(text: string, usage?: Partial<MockUsage>): MockStep {
    return { kind: "response", items: [{ kind: "text", text }], ...(usage ? { usage } : {}) };
  },
  /** The model runs `cmd` with codex's shell tool (`exec_command`), optionally saying something first. */
  shell(cmd: string, options: { text?: string; usage?: Partial<MockUsage> } = {}): MockStep {
    const items: MockItem[] = options.text ? [{ kind: "text", text: options.text }] : [];
    items.push({ kind: "function_call", name: "exec_command", arguments: { cmd, yield_time_ms: 10000 } });
    return { kind: "response", items, ...(options.usage ? { usage: options.usage } : {}) };
  },
  /** The model edits files with codex's `apply_patch` tool (`patchAddFile` builds a patch). */
  patch(patch: string, usage?: Partial<MockUsage>): MockStep {
    return { kind: "response", items: [{ kind: "custom_tool_call", name: "apply_patch", input: patch }], ...(usage ? { usage } : {}) };
  },
  /** The model calls any function tool by its name, e.g. `mcp__ve__ask_operator` with `{question}`. */
  call(name: string, args: unknown, usage?: Partial<MockUsage>): MockStep {
    return { kind: "response", items: [{ kind: "function_call", name, arguments: args }], ...(usage ? { usage } : {}) };
  },
  /**
   * The model calls tool `tool` of MCP server `server` (codex offers them in a namespace
   * `mcp__<server>`, e.g. `reply.mcp("ve", "ask_operator", { question })`).
   */
  mcp(server: string, tool: string, args: unknown, usage?: Partial<MockUsage>): MockStep {
    return { kind: "response", items: [{ kind: "function_call", name: tool, namespace: `mcp__${server}`, arguments: args }], ...(usage ? { usage } : {}) };
  },
  /** Several items in one model call. */
  items(items: MockItem[], usage?: Partial<MockUsage>): MockStep {
    return { kind: "response", items, ...(usage ? { usage } : {}) };
  },
  /** An HTTP error: e.g. `reply.status(500)`, `reply.status(529)` (overloaded). */
  status(status: number, body: unknown = { error: { type: "server_error", message: `mock: HTTP ${status}` } }, headers?: Record<string, string>): MockStep {
    return { kind: "status", status, body, ...(headers ? { headers } : {}) };
  },
  /** A usage limit, as codex reads it: HTTP 429, error type `usage_limit_reached`, `resets_at` in Unix seconds. */
  usageLimit(resetsAt: Date, planType = "plus"): MockStep {
    return {
      kind: "status",
      status: 429,
      body: { error: { type: "usage_limit_reached", message: "The usage limit has been reached", plan_type: planType, resets_at: Math.floor(resetsAt.getTime() / 1000) } },
    };
  },
  /** The stream fails after it started (`response.failed`). */
  failed(message: string, code?: string): MockStep {
    return { kind: "failed", error: { message, ...(code ? { code } : {}) } };
  },
  /** The stream starts and never ends. */
  hang(text?: string): MockStep {
    return { kind: "hang", ...(text !== undefined ? { text } : {}) };
  },
  dynamic(decide: (request: RecordedRequest) => MockStep): MockStep {
    return { kind: "dynamic", decide };
  },
};

/** An apply_patch patch that creates `path` (relative to the worktree) with `content`. */
export function patchAddFile(path: string, content: string): string {
  const lines = content.endsWith("\n") ? content.slice(0, -1).split("\n") : content.split("\n");
  return `*** Begin Patch\n*** Add File: ${path}\n${lines.map((l) => `+${l}`).join("\n")}\n*** End Patch\n`;
}

export interface RecordedRequest {
  /** 0, 1, 2 ... in arrival order over the whole mock. */
  index: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The parsed JSON body (null when it was not JSON). */
  body: any;
  /** Codex's thread (session) id from the `session-id` header, null when absent. */
  threadId: string | null;
  /** The route that answered (its `name`), null for a request no route matched. */
  route: string | null;
  /** The step that answered, null when none did (unmatched, exhausted, not /v1/responses). */
  step: MockStep["kind"] | null;
}

export interface MockRoute {
  /** Shown in records and errors. */
  name: string;
  /** Which requests this route answers; the first route that matches a request answers it. */
  match?: (request: RecordedRequest) => boolean;
  steps: MockStep[];
}

export interface MockOpenAIOptions {
  /** Answer when a route's steps are used up; default: a 500 naming the route (the test then fails visibly). */
  exhausted?: MockStep;
  /** Usage on every response without its own (defaults: 1000 input, 200 of them cached, 50 output). */
  usage?: Partial<MockUsage>;
}

export interface MockOpenAI {
  /** e.g. `http://127.0.0.1:43123/v1`: the model provider's base_url. */
  readonly baseUrl: string;
  readonly port: number;
  /** Every request so far, in arrival order. */
  readonly requests: RecordedRequest[];
  /** The `/v1/responses` requests only (the model calls). */
  modelCalls(): RecordedRequest[];
  /** Requests a route answered after its steps were used up, or no route matched. */
  readonly unscripted: RecordedRequest[];
  /** Adds steps to a route (default: the first one) while the mock runs. */
  push(...steps: MockStep[]): void;
  pushTo(route: string, ...steps: MockStep[]): void;
  /** Resolves when `count` model calls have arrived (e.g. to kill codex mid-stream). */
  waitForModelCalls(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export const DEFAULT_MOCK_USAGE: MockUsage = { input_tokens: 1000, cached_input_tokens: 200, output_tokens: 50 };

/** A route that answers requests whose body mentions `needle` (e.g. a chunk's worktree path or name). */
export function routeMentioning(name: string, needle: string, steps: MockStep[]): MockRoute {
  return { name, match: (request) => JSON.stringify(request.body ?? "").includes(needle), steps };
}

/**
 * Starts the mock. `script` is either the steps of one route that answers everything, or
 * several routes (each with `match`).
 */
export async function startMockOpenAI(script: MockStep[] | MockRoute[], options: MockOpenAIOptions = {}): Promise<MockOpenAI> {
  const routes: MockRoute[] = isRoutes(script) ? script.map((r) => ({ ...r, steps: [...r.steps] })) : [{ name: "default", steps: [...script] }];
  const requests: RecordedRequest[] = [];
  const unscripted: RecordedRequest[] = [];
  const usageDefault = { ...DEFAULT_MOCK_USAGE, ...options.usage };
  const hanging = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let sequence = 0;

  const notify = () => {
    const calls = requests.filter((r) => r.path.endsWith("/responses")).length;
    for (const waiter of waiters.splice(0)) {
      if (calls >= waiter.count) waiter.resolve();
      else waiters.push(waiter);
    }
  };

  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    // Codex keeps a stream open while a tool runs in another request; never cut it short.
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const text = await req.text();
      let body: any = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      const headers: Record<string, string> = {};
      req.headers.forEach((value, key) => {
        headers[key] = value;
      });
      const record: RecordedRequest = {
        index: requests.length,
        method: req.method,
        path: url.pathname,
        headers,
        body,
        threadId: headers["session-id"] ?? headers["thread-id"] ?? null,
        route: null,
        step: null,
      };
      requests.push(record);
      if (req.method !== "POST" || !url.pathname.endsWith("/responses")) {
        unscripted.push(record);
        notify();
        return Response.json({ error: { type: "not_found", message: `mock-openai: no ${req.method} ${url.pathname}` } }, { status: 404 });
      }
      const route = routes.find((r) => !r.match || r.match(record));
      record.route = route?.name ?? null;
      let step = route?.steps.shift();
      if (!step) {
        unscripted.push(record);
        step = options.exhausted ?? reply.status(500, { error: { type: "server_error", message: route ? `mock-openai: route '${route.name}' has no steps left` : "mock-openai: no route matches this request" } });
      }
      while (step.kind === "dynamic") step = step.decide(record);
      record.step = step.kind;
      notify();
      return answer(step, usageDefault, hanging, () => `resp_${++sequence}`);
    },
  });

  const port = server.port as number;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    unscripted,
    modelCalls: () => requests.filter((r) => r.path.endsWith("/responses")),
    push: (...steps) => {
      routes[0]?.steps.push(...steps);
    },
    pushTo: (name, ...steps) => {
      const route = routes.find((r) => r.name === name);
      if (!route) throw new Error(`mock-openai: no route named '${name}'`);
      route.steps.push(...steps);
    },
    waitForModelCalls: (count, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`mock-openai: ${count} model calls did not arrive within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        notify();
      }),
    stop: async () => {
      for (const controller of hanging) {
        try {
          controller.close();
        } catch {
          // already closed by the client going away
        }
      }
      hanging.clear();
      await server.stop(true);
    },
  };
}

function isRoutes(script: MockStep[] | MockRoute[]): script is MockRoute[] {
  return script.length > 0 && "steps" in (script[0] as object);
}

const encoder = new TextEncoder();

function sse(event: Record<string, unknown> & { type: string }): Uint8Array {
  return encoder.encode(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };

function answer(step: Exclude<MockStep, { kind: "dynamic" }>, usageDefault: MockUsage, hanging: Set<ReadableStreamDefaultController<Uint8Array>>, nextId: () => string): Response {
  if (step.kind === "status") {
    return new Response(JSON.stringify(step.body), { status: step.status, headers: { "content-type": "application/json", ...step.headers } });
  }
  const id = nextId();
  const created = sse({ type: "response.created", response: { id, object: "response", status: "in_progress", output: [] } });
  if (step.kind === "failed") {
    const events = [created, sse({ type: "response.failed", response: { id, object: "response", status: "failed", error: step.error } })];
    return new Response(new Blob(events), { headers: SSE_HEADERS });
  }
  if (step.kind === "hang") {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        hanging.add(controller);
        controller.enqueue(created);
        if (step.text) {
          const item = { type: "message", id: `msg_${id}`, role: "assistant", status: "in_progress", content: [] };
          controller.enqueue(sse({ type: "response.output_item.added", output_index: 0, item }));
          controller.enqueue(sse({ type: "response.output_text.delta", output_index: 0, content_index: 0, item_id: item.id, delta: step.text }));
        }
      },
      cancel() {
        // the client went away (codex killed): nothing to close
      },
    });
    return new Response(stream, { headers: SSE_HEADERS });
  }
  const events: Uint8Array[] = [created];
  const output: unknown[] = [];
  step.items.forEach((item, index) => {
    const done = outputItem(item, `${id}_${index}`);
    const added = item.kind === "text" ? { ...done, status: "in_progress", content: [] } : { ...done, status: "in_progress" };
    events.push(sse({ type: "response.output_item.added", output_index: index, item: added }));
    if (item.kind === "text") {
      events.push(sse({ type: "response.output_text.delta", output_index: index, content_index: 0, item_id: done.id, delta: item.text }));
    }
    events.push(sse({ type: "response.output_item.done", output_index: index, item: done }));
    output.push(done);
  });
  const usage = { ...usageDefault, ...step.usage };
  events.push(
    sse({
      type: "response.completed",
      response: {
        id,
        object: "response",
        status: "completed",
        output,
        usage: {
          input_tokens: usage.input_tokens,
          input_tokens_details: { cached_tokens: usage.cached_input_tokens },
          output_tokens: usage.output_tokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: usage.input_tokens + usage.output_tokens,
        },
      },
    }),
  );
  return new Response(new Blob(events), { headers: SSE_HEADERS });
}

function outputItem(item: MockItem, id: string): Record<string, unknown> & { id: string } {
  switch (item.kind) {
    case "text":
      return { type: "message", id: `msg_${id}`, role: "assistant", status: "completed", content: [{ type: "output_text", text: item.text, annotations: [] }] };
    case "function_call":
      return {
        type: "function_call",
        id: `fc_${id}`,
        call_id: `call_${id}`,
        name: item.name,
        ...(item.namespace ? { namespace: item.namespace } : {}),
        arguments: JSON.stringify(item.arguments),
        status: "completed",
      };
    case "custom_tool_call":
      return { type: "custom_tool_call", id: `ctc_${id}`, call_id: `call_${id}`, name: item.name, input: item.input, status: "completed" };
  }
}

// --- reading what codex sent ------------------------------------------------------------------

/** The texts of the user messages in a model call's input, in order (the prompts, and the environment context). */
export function userTexts(request: RecordedRequest): string[] {
  const input: any[] = Array.isArray(request.body?.input) ? request.body.input : [];
  return input
    .filter((item) => item?.type === "message" && item.role === "user")
    .flatMap((item) => (Array.isArray(item.content) ? item.content : []))
    .filter((part: any) => part?.type === "input_text" && typeof part.text === "string")
    .map((part: any) => part.text as string);
}

/** The assistant texts the model said earlier, as codex sends them back in a later call's input. */
export function assistantTexts(request: RecordedRequest): string[] {
  const input: any[] = Array.isArray(request.body?.input) ? request.body.input : [];
  return input
    .filter((item) => item?.type === "message" && item.role === "assistant")
    .flatMap((item) => (Array.isArray(item.content) ? item.content : []))
    .filter((part: any) => typeof part?.text === "string")
    .map((part: any) => part.text as string);
}

/** Outputs of tool calls codex sends back (`function_call_output` / `custom_tool_call_output`), by call id. */
export function toolOutputs(request: RecordedRequest): Array<{ call_id: string; output: string }> {
  const input: any[] = Array.isArray(request.body?.input) ? request.body.input : [];
  return input
    .filter((item) => item?.type === "function_call_output" || item?.type === "custom_tool_call_output")
    .map((item) => ({ call_id: String(item.call_id), output: typeof item.output === "string" ? item.output : JSON.stringify(item.output) }));
}

/** The names of the tools codex offered the model in this call (MCP tools appear as `mcp__<server>__<tool>`). */
export function offeredTools(request: RecordedRequest): string[] {
  const tools: any[] = Array.isArray(request.body?.tools) ? request.body.tools : [];
  return tools.flatMap((tool) => (tool?.type === "namespace" && Array.isArray(tool.tools) ? tool.tools.map((t: any) => `${tool.name}.${t.name}`) : [tool?.name ?? tool?.type]));
}

// --- running codex against it ------------------------------------------------------------------

/** The environment variable the mock provider reads its API key from. */
export const MOCK_KEY_VARIABLE = "VE_MOCK_OPENAI_KEY";
/** The model name codex is told to use: one codex knows, so it offers its usual tools (apply_patch among them). */
export const MOCK_MODEL = "gpt-5.5";

export interface CodexMockSetup {
  /** `-c` overrides that point codex at the mock (give them before the prompt). */
  args: string[];
  /** Variables to set for codex: HOME and CODEX_HOME in `dir`, the mock's key. Add to a clean environment. */
  env: Record<string, string>;
  home: string;
  codexHome: string;
}

/**
 * Arguments and environment that run the real codex hermetically against `mock`: a model
 * provider `mock` with the mock's base_url, the Responses wire API and its key from
 * VE_MOCK_OPENAI_KEY; retries kept short (`retries`, default 1 request retry and 1 stream
 * retry) so error cases end in seconds; HOME and CODEX_HOME under `dir` (created), so nothing
 * under the real ~/.codex is read or written.
 */
export function codexMockSetup(mock: Pick<MockOpenAI, "baseUrl">, dir: string, options: { requestRetries?: number; streamRetries?: number; model?: string } = {}): CodexMockSetup {
  const home = `${dir}/home`;
  const codexHome = `${dir}/codex-home`;
  mkdirSync(home, { recursive: true });
  mkdirSync(codexHome, { recursive: true });
  const args = codexMockArgs(mock, options);
  return {
    args,
    env: { HOME: home, CODEX_HOME: codexHome, [MOCK_KEY_VARIABLE]: "mock-key" },
    home,
    codexHome,
  };
}

/** Only the `-c` overrides of `codexMockSetup` (e.g. for `backends.codex.args`). */
export function codexMockArgs(mock: Pick<MockOpenAI, "baseUrl">, options: { requestRetries?: number; streamRetries?: number; model?: string } = {}): string[] {
  const overrides: Record<string, string | number | boolean> = {
    model_provider: "mock",
    model: options.model ?? MOCK_MODEL,
    "model_providers.mock.name": "mock",
    "model_providers.mock.base_url": mock.baseUrl,
    "model_providers.mock.wire_api": "responses",
    "model_providers.mock.env_key": MOCK_KEY_VARIABLE,
    "model_providers.mock.request_max_retries": options.requestRetries ?? 1,
    "model_providers.mock.stream_max_retries": options.streamRetries ?? 1,
    // Nothing from the machine or the mock's absence of features slows a test down.
    "model_providers.mock.stream_idle_timeout_ms": 60_000,
  };
  return Object.entries(overrides).flatMap(([key, value]) => ["-c", `${key}=${typeof value === "string" ? JSON.stringify(value) : String(value)}`]);
}

/** The real codex CLI the tests run (the exact-pinned dev dependency), as an absolute path without `..` (ve reports the path it resolved). */
export const CODEX_BIN = resolve(import.meta.dir, "../../node_modules/.bin/codex");

export interface CodexExecResult {
  exitCode: number | null;
  /** Each stdout line parsed as JSON (`--json` events); lines that are not JSON are left out. */
  events: Array<Record<string, any>>;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `codex exec --json` (or `codex exec --json resume ID` with `resume`) in `cwd`
 * against the mock, stdin closed, with only PATH taken from this process's environment.
 * `extra` goes before the prompt (e.g. more `-c` overrides).
 */
export async function runCodexExec(
  setup: CodexMockSetup,
  cwd: string,
  prompt: string,
  options: { resume?: string; extra?: string[]; env?: Record<string, string>; sandbox?: string; timeoutMs?: number } = {},
): Promise<CodexExecResult> {
  const argv = [
    CODEX_BIN,
    "exec",
    "--json",
    ...(options.resume ? ["resume"] : []),
    "-c",
    `sandbox_mode="${options.sandbox ?? "workspace-write"}"`,
    ...setup.args,
    ...(options.extra ?? []),
    ...(options.resume ? [options.resume] : []),
    prompt,
  ];
  const proc = Bun.spawn(argv, {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...setup.env, ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    // its own process group: a timeout kills codex's native child too, not only the node wrapper
    detached: true,
  });
  const timer = setTimeout(() => {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {}
  }, options.timeoutMs ?? 60_000);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  const events = stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });
  return { exitCode, events, stdout, stderr };
}
