// Finding a backend's executable: the configured path, else its usual name on the PATH the
// agent will get. A missing one is an expected condition with its own error, which the engine
// turns into an attention record saying how to install or configure it.
import { VeError } from "../errors.ts";

/** What to tell a person whose backend program is missing. */
const INSTALL_HINTS: Record<string, string> = {
  command: "set it with `ve orch config backends.command.path /path/to/program`",
  claude: "install it with `npm install -g @anthropic-ai/claude-code`, or set `ve orch config backends.claude.path`",
  codex: "install it with `npm install -g @openai/codex`, or set `ve orch config backends.codex.path`",
};

export async function resolveExecutable(
  backend: string,
  configured: string | undefined,
  defaultName: string | undefined,
  pathVariable: string | undefined,
): Promise<string> {
  const hint = INSTALL_HINTS[backend] ?? `set \`ve orch config backends.${backend}.path\``;
  const wanted = configured ?? defaultName;
  if (wanted === undefined) {
    throw new VeError("backend_missing", `The ${backend} backend has no program configured; ${hint}.`, { backend });
  }
  const found = wanted.includes("/") ? await executableFile(wanted) : Bun.which(wanted, { PATH: pathVariable ?? "" });
  if (!found) {
    throw new VeError(
      "backend_missing",
      `The ${backend} backend's program ${wanted} ${wanted.includes("/") ? "does not exist or is not executable" : "is not on the PATH"}; ${hint}.`,
      { backend, program: wanted },
    );
  }
  return found;
}

async function executableFile(path: string): Promise<string | undefined> {
  const { accessSync, constants, statSync } = await import("node:fs");
  try {
    if (!statSync(path).isFile()) return undefined;
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}
