// The `command` backend: any program is an agent. It runs as `<path> <args...>` in the
// worktree with the prompt on stdin (then end of file) and in the file VE_PROMPT_FILE names.
// Its exit code decides: 0 means the phase is done, anything else a failure with the last
// lines it printed. (A run that asked the operator through `ve agent ask` is a question
// whatever its exit code; the engine knows that from the call itself, not from here.)
import type { Backend, OutputReader, RunContext } from "./backend.ts";
import { resolveExecutable } from "./executables.ts";

/** Lines of output kept to explain a failure. */
export const FAILURE_TAIL_LINES = 20;

class CommandReader implements OutputReader {
  private readonly tail: string[] = [];

  line(stream: "stdout" | "stderr", text: string) {
    this.tail.push(stream === "stderr" ? `stderr: ${text}` : text);
    if (this.tail.length > FAILURE_TAIL_LINES) this.tail.shift();
    return [{ type: "text" as const, text }];
  }

  finish(exitCode: number | null) {
    if (exitCode === 0) return { outcome: "completed" as const, reason: "the command exited with status 0" };
    const how = exitCode === null ? "was ended by a signal" : `exited with status ${exitCode}`;
    const tail = this.tail.length > 0 ? `; its last lines:\n${this.tail.join("\n")}` : " without printing anything";
    return { outcome: "failed" as const, reason: `the command ${how}${tail}` };
  }
}

export const commandBackend: Backend = {
  name: "command",
  askHow: 'run `ve agent ask "your question"` (add `--option TEXT` once per choice you offer).',
  doneHow: "exit with status 0 (any other status means the phase failed).",

  async launch(context: RunContext) {
    const path = await resolveExecutable("command", context.config.path, undefined, context.env.PATH);
    return {
      argv: [path, ...context.config.args],
      env: { ...context.env, VE_PROMPT_FILE: context.promptFile },
      stdin: context.prompt,
      sessionId: null,
      version: null,
    };
  },

  reader(): OutputReader {
    return new CommandReader();
  },
};
