import { read } from "node:fs";
import { defineCommand } from "citty";
import { agentClient, agentRun } from "../agent-run.ts";
import { JSONRPC_PARSE_ERROR, LineSplitter, MAX_MESSAGE_BYTES, McpServer, writeLine } from "../mcp.ts";

const STDIN_FD = 0;
const STDOUT_FD = 1;
const READ_CHUNK_BYTES = 64 * 1024;
/** The longest pause between reads of a non-blocking stdin that has nothing yet. */
const MAX_IDLE_POLL_MS = 50;

function readOnce(buffer: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => read(STDIN_FD, buffer, 0, buffer.length, null, (error, bytes) => (error ? reject(error) : resolve(bytes))));
}

/**
 * Reads fd 0 with plain read(2) calls until end of file. Not process.stdin or Bun.stdin: under
 * some agent CLIs those have lost input that arrived before the first listener, or failed with
 * EPERM, while reading the descriptor itself works. A non-blocking descriptor (EAGAIN) is read
 * again after a short, growing pause.
 */
async function readStdin(onBytes: (bytes: Uint8Array) => void): Promise<void> {
  const buffer = new Uint8Array(READ_CHUNK_BYTES);
  let idleMs = 1;
  for (;;) {
    let bytes: number;
    try {
      bytes = await readOnce(buffer);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EAGAIN" || code === "EWOULDBLOCK") {
        await Bun.sleep(idleMs);
        idleMs = Math.min(MAX_IDLE_POLL_MS, idleMs * 2);
        continue;
      }
      if (code === "EINTR") continue;
      // A closed or broken stdin is the end of the conversation.
      if (code === "EOF" || code === "EBADF" || code === "ECONNRESET" || code === "EPIPE") return;
      throw error;
    }
    if (bytes === 0) return;
    idleMs = 1;
    onBytes(buffer.slice(0, bytes));
  }
}

export default defineCommand({
  meta: {
    name: "mcp",
    description:
      "Serve the tools ask_operator and report_done to an agent CLI over stdio (MCP); the agent CLI starts it inside a ve run",
  },
  args: {},
  async run() {
    const log = (line: string): void => {
      process.stderr.write(`${line}\n`);
    };
    // One write at a time, in order: a message is never interleaved with another.
    let writing: Promise<void> = Promise.resolve();
    const send = (message: unknown) => {
      const text = JSON.stringify(message);
      writing = writing.then(() => writeLine(STDOUT_FD, text)).catch((error) => log(`ve mcp: cannot write to stdout: ${error instanceof Error ? error.message : String(error)}`));
    };
    const server = new McpServer(
      {
        async ask(question, options) {
          const run = agentRun("ask_operator");
          const reply = await agentClient(run, log).agentAsk(run.token, { run_id: run.runId, question, ...(options.length > 0 ? { options } : {}), via: "mcp" });
          return reply.data.message;
        },
        async done(summary) {
          const run = agentRun("report_done");
          const reply = await agentClient(run, log).agentDone(run.token, { run_id: run.runId, summary, via: "mcp" });
          return reply.data.message;
        },
      },
      send,
      log,
    );
    const lines = new LineSplitter(
      (line) => server.line(line),
      () => send({ jsonrpc: "2.0", id: null, error: { code: JSONRPC_PARSE_ERROR, message: `Parse error: a message longer than ${MAX_MESSAGE_BYTES} bytes` } }),
    );
    // Stdin's end is the end of the session (signals may not reach a process reading stdin).
    await readStdin((bytes) => lines.push(bytes));
    lines.end();
    await server.settled();
    await writing;
    return 0;
  },
});
