// `ve mcp` as an MCP client sees it: the compiled dist/ve over a pipe, newline-delimited
// JSON-RPC 2.0. Framing (input already waiting before the server starts, split across writes,
// CRLF, several messages in one write, a batch, an over-long line), the handshake with version
// negotiation, the tools and their schemas, JSON-RPC errors, and a tool call outside a ve run.
// Nothing but protocol messages may reach stdout; the process ends at end of input.
import { describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { PROTOCOL_VERSIONS } from "../../src/cli/mcp.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { VE } from "./harness.ts";

const tempDir = useTempDirs("ve-mcp-pipe");

type Json = Record<string, any>;

/** Variables that would make `ve mcp` speak for a run; a test adds them when it means to. */
const NOT_IN_A_RUN = { VE_RUN_ID: undefined, VE_RUN_TOKEN: undefined, VE_PROJECT_DIR: undefined, VE_CHUNK: undefined };

class McpClient {
  readonly proc: Subprocess<"pipe", "pipe", "pipe">;
  private buffered = "";
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  private readonly reading: Promise<void>;
  readonly stderr: Promise<string>;

  constructor(env: Record<string, string | undefined> = {}) {
    const proc = Bun.spawn([VE, "mcp"], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...NOT_IN_A_RUN, ...env } });
    this.proc = proc;
    this.stderr = new Response(proc.stderr).text();
    this.reading = (async () => {
      const decoder = new TextDecoder();
      for await (const piece of proc.stdout) {
        this.buffered += decoder.decode(piece, { stream: true });
        let newline = this.buffered.indexOf("\n");
        while (newline !== -1) {
          this.lines.push(this.buffered.slice(0, newline));
          this.buffered = this.buffered.slice(newline + 1);
          newline = this.buffered.indexOf("\n");
        }
        for (const wake of this.waiters.splice(0)) wake();
      }
      for (const wake of this.waiters.splice(0)) wake();
    })();
  }

  write(text: string): void {
    this.proc.stdin.write(text);
    this.proc.stdin.flush();
  }

  send(message: Json): void {
    this.write(`${JSON.stringify(message)}\n`);
  }

  /** The next line on stdout, parsed (every line must be a JSON-RPC message). */
  async next(timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (Date.now() > deadline) throw new Error(`no message from ve mcp within ${timeoutMs} ms; stderr: ${await Promise.race([this.stderr, Bun.sleep(100).then(() => "")])}`);
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), Bun.sleep(50)]);
    }
    const line = this.lines.shift() as string;
    return JSON.parse(line);
  }

  async request(id: number | string, method: string, params?: Json): Promise<any> {
    this.send({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });
    const answer = await this.next();
    expect(answer.id).toBe(id);
    return answer;
  }

  async initialize(version = "2025-06-18"): Promise<any> {
    const answer = await this.request(0, "initialize", { protocolVersion: version, capabilities: {}, clientInfo: { name: "test", version: "1" } });
    this.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    return answer;
  }

  /** Closes stdin; resolves with the exit code, every line left on stdout, and stderr. */
  async end(): Promise<{ code: number; rest: string[]; stderr: string }> {
    this.proc.stdin.end();
    const code = await this.proc.exited;
    await this.reading;
    return { code, rest: [...this.lines.splice(0), ...(this.buffered ? [this.buffered] : [])], stderr: await this.stderr };
  }
}

async function withClient<T>(work: (client: McpClient) => Promise<T>, env: Record<string, string | undefined> = {}): Promise<T> {
  const client = new McpClient(env);
  try {
    return await work(client);
  } finally {
    client.proc.kill("SIGKILL");
  }
}

describe("ve mcp: the handshake", () => {
  test("initialize answers the version asked for when it speaks it, its tools capability and who it is; ping answers {}", async () => {
    await withClient(async (client) => {
      const init = await client.initialize("2025-06-18");
      expect(init).toEqual({
        jsonrpc: "2.0",
        id: 0,
        result: {
          protocolVersion: "2025-06-18",
          capabilities: { tools: { listChanged: false } },
          serverInfo: { name: "ve", title: "ve orchestrator", version: expect.any(String) },
          instructions: expect.stringContaining("ask_operator"),
        },
      });
      expect(await client.request(1, "ping")).toEqual({ jsonrpc: "2.0", id: 1, result: {} });
      const done = await client.end();
      expect(done.code).toBe(0);
      expect(done.rest).toEqual([]);
    });
  });

  test("every version it knows is echoed back; an unknown one gets its newest", async () => {
    for (const version of [...PROTOCOL_VERSIONS, "2099-01-01", "1.0"]) {
      await withClient(async (client) => {
        const init = await client.initialize(version);
        const expected = (PROTOCOL_VERSIONS as readonly string[]).includes(version) ? version : PROTOCOL_VERSIONS[0];
        expect({ version, answered: init.result.protocolVersion }).toEqual({ version, answered: expected });
      });
    }
  });

  test("initialize without a protocolVersion is invalid params (-32602)", async () => {
    await withClient(async (client) => {
      const answer = await client.request(7, "initialize", { capabilities: {} });
      expect(answer.error.code).toBe(-32602);
      expect(answer.result).toBeUndefined();
    });
  });
});

describe("ve mcp: the tools", () => {
  test("tools/list offers ask_operator {question, options?} and report_done {summary} with JSON Schemas", async () => {
    await withClient(async (client) => {
      await client.initialize();
      const { result } = await client.request(2, "tools/list", {});
      const byName = Object.fromEntries(result.tools.map((t: Json) => [t.name, t]));
      expect(Object.keys(byName).sort()).toEqual(["ask_operator", "report_done"]);
      expect(byName.ask_operator.inputSchema).toMatchObject({
        type: "object",
        properties: { question: { type: "string" }, options: { type: "array", items: { type: "string" } } },
        required: ["question"],
        additionalProperties: false,
      });
      expect(byName.report_done.inputSchema).toMatchObject({ type: "object", properties: { summary: { type: "string" } }, required: ["summary"], additionalProperties: false });
      for (const tool of result.tools) {
        expect(tool.description.toLowerCase()).toContain("end your turn");
        expect(tool.annotations.readOnlyHint).toBe(true);
      }
      expect(byName.ask_operator.description).toContain("END YOUR TURN");
    });
  });

  test("a tool called outside a ve run is a tool error saying so (not a protocol error)", async () => {
    await withClient(async (client) => {
      await client.initialize();
      const ask = await client.request(3, "tools/call", { name: "ask_operator", arguments: { question: "Which?", options: ["a", "b"] } });
      expect(ask.result.isError).toBe(true);
      expect(ask.result.content).toEqual([{ type: "text", text: expect.stringContaining("works only inside an agent run that ve started") }]);
      expect(ask.result.content[0].text).toContain("VE_RUN_ID, VE_RUN_TOKEN, VE_PROJECT_DIR");
      const done = await client.request(4, "tools/call", { name: "report_done", arguments: { summary: "x" } });
      expect(done.result.isError).toBe(true);
    });
  });

  test("a run whose daemon is not running gets a tool error naming the project", async () => {
    const dir = tempDir();
    await withClient(
      async (client) => {
        await client.initialize();
        const ask = await client.request(5, "tools/call", { name: "ask_operator", arguments: { question: "Which?" } });
        expect(ask.result.isError).toBe(true);
        expect(ask.result.content[0].text).toContain("No ve daemon is running");
      },
      { VE_RUN_ID: "20261201-120000-a1b2c3", VE_RUN_TOKEN: "0".repeat(64), VE_PROJECT_DIR: dir },
    );
  });

  test("arguments that do not fit the schema are a tool error the model can act on", async () => {
    await withClient(async (client) => {
      await client.initialize();
      const cases: [Json, string][] = [
        [{}, "needs the argument 'question'"],
        [{ question: "" }, "'question' must not be empty"],
        [{ question: 3 }, "'question' must be a string"],
        [{ question: "q", options: "a" }, "'options' must be a list of strings"],
        [{ question: "q", options: ["a", ""] }, "non-empty string"],
        [{ question: "q", colour: "red" }, "takes no argument 'colour'"],
      ];
      let id = 10;
      for (const [args, problem] of cases) {
        const answer = await client.request(id++, "tools/call", { name: "ask_operator", arguments: args });
        expect({ args, error: answer.result.isError, text: answer.result.content[0].text }).toEqual({ args, error: true, text: expect.stringContaining(problem) });
      }
      const notObject = await client.request(id++, "tools/call", { name: "report_done", arguments: ["x"] });
      expect(notObject.result.isError).toBe(true);
    });
  });

  test("an unknown tool is invalid params (-32602); an unknown method is -32601", async () => {
    await withClient(async (client) => {
      await client.initialize();
      const tool = await client.request(20, "tools/call", { name: "rm_rf", arguments: {} });
      expect(tool.error.code).toBe(-32602);
      expect(tool.error.message).toContain("ask_operator");
      const method = await client.request("s-1", "resources/list", {});
      expect(method).toEqual({ jsonrpc: "2.0", id: "s-1", error: { code: -32601, message: expect.stringContaining("resources/list") } });
    });
  });
});

describe("ve mcp: framing and JSON-RPC errors", () => {
  test("input already in the pipe before the server reads is all answered, in one write, with CRLF line ends", async () => {
    // Everything written and stdin closed at once: nothing may be lost to a late first read.
    const proc = Bun.spawn([VE, "mcp"], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...NOT_IN_A_RUN } });
    const lines = [
      { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2024-11-05", capabilities: {}, clientInfo: { name: "t", version: "1" } } },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      { jsonrpc: "2.0", id: 3, method: "ping" },
    ];
    proc.stdin.write(lines.map((l) => `${JSON.stringify(l)}\r\n`).join(""));
    proc.stdin.end();
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(0);
    expect(err).toBe("");
    const answers = out.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2, 3]);
    expect(answers.find((a) => a.id === 1).result.protocolVersion).toBe("2024-11-05");
  });

  test("a message split across writes, and two in one write, are each answered once", async () => {
    await withClient(async (client) => {
      const text = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
      client.write(text.slice(0, 10));
      await Bun.sleep(50);
      client.write(`${text.slice(10)}\n${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" })}\n`);
      const ids = [(await client.next()).id, (await client.next()).id].sort();
      expect(ids).toEqual([1, 2]);
      const done = await client.end();
      expect(done.rest).toEqual([]);
    });
  });

  test("not JSON is a parse error (-32700, id null); the server goes on answering", async () => {
    await withClient(async (client) => {
      client.write("this is not json\n");
      expect(await client.next()).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32700, message: expect.any(String) } });
      client.write("{\"jsonrpc\":\"2.0\",\"id\":1,\n");
      expect((await client.next()).error.code).toBe(-32700);
      expect(await client.request(9, "ping")).toEqual({ jsonrpc: "2.0", id: 9, result: {} });
    });
  });

  test("invalid requests are -32600 with their id where it can be read", async () => {
    await withClient(async (client) => {
      client.write("42\n");
      expect(await client.next()).toMatchObject({ id: null, error: { code: -32600 } });
      client.send({ jsonrpc: "1.0", id: 5, method: "ping" });
      expect(await client.next()).toMatchObject({ id: 5, error: { code: -32600 } });
      client.send({ jsonrpc: "2.0", id: 6, method: 12 });
      expect(await client.next()).toMatchObject({ id: 6, error: { code: -32600 } });
      client.send({ jsonrpc: "2.0", id: { nested: true }, method: "ping" });
      expect(await client.next()).toMatchObject({ id: null, error: { code: -32600 } });
      client.send({ jsonrpc: "2.0", id: 8, method: "ping", params: "x" });
      expect(await client.next()).toMatchObject({ id: 8, error: { code: -32600 } });
      client.write("[]\n");
      expect(await client.next()).toMatchObject({ id: null, error: { code: -32600 } });
    });
  });

  test("notifications (known or not) and responses get no answer", async () => {
    await withClient(async (client) => {
      client.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      client.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } });
      client.send({ jsonrpc: "2.0", method: "something/else" });
      client.send({ jsonrpc: "2.0", id: 99, result: {} });
      const done = await client.end();
      expect(done.code).toBe(0);
      expect(done.rest).toEqual([]);
    });
  });

  test("a batch is answered with one array of its requests' answers (notifications left out)", async () => {
    await withClient(async (client) => {
      client.write(`${JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "ping" }, { jsonrpc: "2.0", method: "notifications/initialized" }, { jsonrpc: "2.0", id: 2, method: "nope" }])}\n`);
      const answer = await client.next();
      expect(Array.isArray(answer)).toBe(true);
      expect(answer).toEqual([
        { jsonrpc: "2.0", id: 1, result: {} },
        { jsonrpc: "2.0", id: 2, error: { code: -32601, message: expect.any(String) } },
      ]);
    });
  });

  test("a line over the size bound is refused with a parse error without ending the server", async () => {
    await withClient(async (client) => {
      const piece = "x".repeat(1024 * 1024);
      for (let i = 0; i < 5; i++) client.write(piece);
      client.write("\n");
      expect(await client.next(30_000)).toMatchObject({ id: null, error: { code: -32700, message: expect.stringContaining("longer than") } });
      expect(await client.request(1, "ping")).toEqual({ jsonrpc: "2.0", id: 1, result: {} });
    });
  });

  test("a last message without a newline is still answered at end of input", async () => {
    await withClient(async (client) => {
      client.write(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }));
      const done = await client.end();
      expect(done.code).toBe(0);
      expect(done.rest.map((l) => JSON.parse(l))).toEqual([{ jsonrpc: "2.0", id: 1, result: {} }]);
    });
  });
});
