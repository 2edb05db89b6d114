// Finding a backend's executable: the configured path, else its usual name on the PATH the
// agent will get; reading its version and holding it against the backend's minimum. A missing
// or too-old program is an expected condition with its own error, which the engine turns into
// an attention record saying how to install, upgrade or configure it.
import { VeError } from "../errors.ts";
import { compareVersions } from "../version.ts";

/** The npm package each CLI backend's program comes from. */
const PACKAGES: Record<string, string> = {
  claude: "@anthropic-ai/claude-code",
  codex: "@openai/codex",
};

/** A `--version` that takes longer than this is not answering; the version counts as unknown. */
export const VERSION_TIMEOUT_MS = 15_000;

/** What to tell a person whose backend program is missing. */
export function installHint(backend: string): string {
  if (backend === "command") return "set it with `ve orch config backends.command.path /path/to/program`";
  const pkg = PACKAGES[backend];
  const configure = `set \`ve orch config backends.${backend}.path /path/to/${backend}\``;
  return pkg ? `install it with \`npm install -g ${pkg}\`, or ${configure}` : configure;
}

/** What to tell a person whose backend program is older than the backend needs. */
export function upgradeHint(backend: string): string {
  const pkg = PACKAGES[backend];
  const configure = `point \`ve orch config backends.${backend}.path\` at a newer one`;
  return pkg ? `upgrade it with \`npm install -g ${pkg}@latest\`, or ${configure}` : configure;
}

export async function resolveExecutable(
  backend: string,
  configured: string | undefined,
  defaultName: string | undefined,
  pathVariable: string | undefined,
): Promise<string> {
  const hint = installHint(backend);
  const wanted = configured ?? defaultName;
  if (wanted === undefined) {
    throw new VeError("backend_missing", `The ${backend} backend has no program configured; ${hint}.`, { backend });
  }
  const found = wanted.includes("/") ? await executableFile(wanted) : Bun.which(wanted, { PATH: pathVariable ?? "" });
  if (!found) {
    // The PATH searched is the daemon's, taken from the shell that started it: a program
    // installed since, or only on an interactive shell's PATH, is not seen by it.
    const where = wanted.includes("/")
      ? "does not exist or is not executable"
      : `is not on the daemon's PATH (the PATH of the shell that started it, which a program installed since does not change)`;
    const restart = wanted.includes("/") ? "" : `; if \`which ${wanted}\` finds it in your shell, \`ve orch restart\` from that shell gives the daemon its PATH`;
    throw new VeError("backend_missing", `The ${backend} backend's program ${wanted} ${where}; ${hint}${restart}.`, { backend, program: wanted });
  }
  return found;
}

/**
 * The program at `path`, absolute: a relative one (`./my-agent`) is taken from the daemon's
 * directory, the project root, where it was checked; the agent starts in its worktree, where
 * the same relative path would name another file or none.
 */
async function executableFile(path: string): Promise<string | undefined> {
  const { accessSync, constants, statSync } = await import("node:fs");
  const { isAbsolute, resolve } = await import("node:path");
  try {
    if (!statSync(path).isFile()) return undefined;
    accessSync(path, constants.X_OK);
    return isAbsolute(path) ? path : resolve(path);
  } catch {
    return undefined;
  }
}

/** The first `major.minor.patch` in a program's version text (`2.1.328 (Claude Code)`, `codex-cli 0.169.0`). */
export function parseVersion(text: string): string | null {
  const match = /(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?/.exec(text);
  return match ? match[0] : null;
}

/** Versions read, by program and its file identity: a run does not pay a `--version` each time. */
const versionCache = new Map<string, string | null>();

/**
 * A program's version from `program --version` (or `args`), null when it does not say one
 * within VERSION_TIMEOUT_MS. Cached per program file (path, size, mtime), so an upgrade in
 * place is read again.
 */
export async function readVersion(
  program: string,
  env: Record<string, string>,
  args: readonly string[] = ["--version"],
): Promise<string | null> {
  const { statSync } = await import("node:fs");
  let key: string;
  try {
    const stat = statSync(program);
    key = `${program}\0${stat.size}\0${stat.mtimeMs}\0${args.join("\0")}`;
  } catch {
    return null;
  }
  if (versionCache.has(key)) return versionCache.get(key) ?? null;
  let version: string | null = null;
  try {
    const child = Bun.spawn([program, ...args], {
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: VERSION_TIMEOUT_MS,
      killSignal: "SIGKILL",
    });
    const [out, err] = await Promise.all([
      new Response(child.stdout as ReadableStream).text(),
      new Response(child.stderr as ReadableStream).text(),
      child.exited,
    ]);
    version = parseVersion(out) ?? parseVersion(err);
  } catch {
    version = null;
  }
  // An unanswered or failed read is tried again next time; a version read is kept.
  if (version !== null) versionCache.set(key, version);
  return version;
}

/**
 * Refuses a program older than the backend's minimum with `backend_too_old` saying how to
 * upgrade it. An unknown version (null) or no minimum passes: the run itself will tell.
 */
export function requireMinVersion(backend: string, program: string, version: string | null, minVersion: string | undefined): void {
  if (minVersion === undefined || version === null) return;
  if (compareVersions(version, minVersion) >= 0) return;
  throw new VeError(
    "backend_too_old",
    `The ${backend} backend's program ${program} is version ${version}, older than the ${minVersion} it needs; ${upgradeHint(backend)}.`,
    { backend, program, version, min_version: minVersion },
  );
}
