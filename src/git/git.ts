// Running the git on the PATH for the engine. Every call gets an environment that cannot point
// git at another repository or index than the one asked for (a user's shell or an agent may
// export GIT_DIR and friends), never prompts, and speaks the C locale so messages parse.
// Only the daemon runs git; the CLI never loads this module.
import { VeError } from "../errors.ts";

/**
 * Variables that redirect git away from the repository its working directory names; inherited
 * from a user's shell (or a hook that ran us) they would make the engine read or write
 * another repository's refs and index.
 */
export const GIT_REDIRECTING_VARIABLES: readonly string[] = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
  "GIT_CEILING_DIRECTORIES",
  "GIT_DISCOVERY_ACROSS_FILESYSTEM",
  "GIT_QUARANTINE_PATH",
];

/** A bound on any one git command: the engine's git work is local and small. */
export const GIT_TIMEOUT_MS = 120_000;

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GitOptions {
  cwd: string;
  /** Written to git's stdin, then end of file. */
  input?: string;
  /** Extra variables (author identity for commits, for example). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Settings the engine's git always runs with, over whatever the repository's config says: the
 * repository's `.git/` is writable by every agent, and these are the commands it names that the
 * engine's own git would run and does not need.
 * - `core.hooksPath`: no hook at all (`post-commit` runs despite `--no-verify`, `post-checkout`
 *   on `worktree add`, `post-merge` on the checkout's fast-forward, `reference-transaction` on
 *   every ref update): the engine records the agent's work as it is, and the project's checks
 *   belong to its phases.
 * - `core.fsmonitor`: a command run by `status`, `add` and `diff`; a full scan is what the
 *   engine's few reads need.
 * - `commit.gpgSign`: signing runs `gpg.program` and can wait on a passphrase no one sees; the
 *   phase commits pass `--no-gpg-sign` already, this covers `commit-tree` in a git that signs
 *   there too.
 * Kept on purpose: filter drivers (`filter.<x>.clean/smudge/process`, run by `add` and every
 * checkout) and merge drivers, since git-lfs and lockfile drivers are how those repositories
 * store and merge their files, and turning them off would commit an LFS file's content instead
 * of its pointer; textconv and external diff drivers, which no command of the engine's runs
 * (`diff --quiet`/`--name-only` and plumbing only); and remote settings (`core.sshCommand`,
 * credential helpers), since the engine contacts no remote but the lazy fetch of a partial
 * clone's missing blobs, which needs them. A change of the repository's config since the engine
 * last trusted it holds the git step that would run it, for a person (engine/trusted-settings.ts).
 */
export const ENGINE_GIT_CONFIG: readonly (readonly [string, string])[] = [
  ["core.hooksPath", "/dev/null"],
  ["core.fsmonitor", "false"],
  ["commit.gpgSign", "false"],
];

/**
 * `GIT_CONFIG_PARAMETERS` (what `git -c` passes to the commands it runs) with ours last, so
 * they win over the repository's config and over any inherited one; argv stays as the caller
 * wrote it. The `'key=value'` form is the one every git reads.
 */
function configParameters(inherited: string | undefined): string {
  const ours = ENGINE_GIT_CONFIG.map(([key, value]) => `'${key}=${value}'`);
  return [inherited, ...ours].filter((part) => part !== undefined && part !== "").join(" ");
}

/** The environment every git child gets: ours minus the redirecting variables. */
export function gitEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !GIT_REDIRECTING_VARIABLES.includes(key)) env[key] = value;
  }
  const merged: Record<string, string> = {
    ...env,
    LC_ALL: "C",
    LANGUAGE: "C",
    GIT_TERMINAL_PROMPT: "0",
    // Reads (status, worktree list) must not take index.lock while the user works in a checkout.
    GIT_OPTIONAL_LOCKS: "0",
    ...extra,
  };
  merged.GIT_CONFIG_PARAMETERS = configParameters(merged.GIT_CONFIG_PARAMETERS);
  return merged;
}

/** Runs `git args...` in `cwd`; resolves with its exit code and output whatever the code. */
export async function runGit(args: readonly string[], options: GitOptions): Promise<GitResult> {
  let child: ReturnType<typeof Bun.spawn>;
  try {
    child = Bun.spawn(["git", ...args], {
      cwd: options.cwd,
      env: gitEnvironment(options.env),
      stdin: options.input === undefined ? "ignore" : new Blob([options.input]),
      stdout: "pipe",
      stderr: "pipe",
      timeout: options.timeoutMs ?? GIT_TIMEOUT_MS,
      killSignal: "SIGKILL",
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !(await directoryExists(options.cwd))) {
      throw new VeError("git_failed", `The directory ${options.cwd} does not exist any more; git cannot run there.`, {
        cwd: options.cwd,
      });
    }
    if (code === "ENOENT") {
      throw new VeError("git_missing", "git is not on the PATH; install git (2.38 or newer) or add it to the daemon's PATH.", {});
    }
    throw new VeError("git_failed", `git could not be started in ${options.cwd} (${(error as Error).message}).`, {
      cwd: options.cwd,
    });
  }
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout as ReadableStream).text(),
    new Response(child.stderr as ReadableStream).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

async function directoryExists(path: string): Promise<boolean> {
  try {
    const { statSync } = await import("node:fs");
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Like runGit, but a non-zero exit is a `git_failed` error naming the command and git's message. */
export async function git(args: readonly string[], options: GitOptions): Promise<string> {
  const result = await runGit(args, options);
  if (result.code !== 0) throw gitFailure(args, options.cwd, result);
  return result.stdout;
}

export function gitFailure(args: readonly string[], cwd: string, result: GitResult): VeError {
  // git prints progress ("Preparing worktree") before the line that says what went wrong.
  const message = problemLine(result.stderr) || problemLine(result.stdout) || `exit code ${result.code}`;
  return new VeError("git_failed", `\`git ${args.join(" ")}\` failed in ${cwd}: ${message}${staleLockHint(result.stderr)}`, {
    cwd,
    args: [...args],
    exit_code: result.code,
    stderr: result.stderr.slice(0, 4000),
  });
}

/** git names a lock it could not take; when no git holds it, one that was killed left it behind. */
function staleLockHint(stderr: string): string {
  const lock = /Unable to create '([^']+\.lock)': File exists/.exec(stderr)?.[1];
  return lock === undefined ? "" : ` If no git is running in that repository, a git that was killed left the lock: \`rm '${lock}'\`, then try again.`;
}

function problemLine(text: string): string {
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  return lines.find((line) => /^(fatal|error):/.test(line)) ?? lines.at(-1) ?? "";
}

/** The commit a ref names, or undefined when it names none (validated before any merge). */
export async function resolveCommit(ref: string, cwd: string): Promise<string | undefined> {
  const result = await runGit(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** Whether `ancestor` is reachable from `descendant`. */
export async function isAncestor(ancestor: string, descendant: string, cwd: string): Promise<boolean> {
  const result = await runGit(["merge-base", "--is-ancestor", ancestor, descendant], { cwd });
  if (result.code === 0) return true;
  if (result.code === 1) return false;
  throw gitFailure(["merge-base", "--is-ancestor", ancestor, descendant], cwd, result);
}
