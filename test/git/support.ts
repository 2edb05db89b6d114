// Real git repositories in temporary directories, for the engine's git tests.
import { spawnSync } from "bun";
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { gitEnvironment } from "../../src/git/git.ts";

const IDENTITY = {
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
  // Never read the machine's or the user's git configuration.
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
};

/** Runs git synchronously in `cwd`; throws with git's output when it fails. */
export function sh(cwd: string, ...args: string[]): string {
  const result = spawnSync(["git", ...args], { cwd, env: gitEnvironment(IDENTITY) });
  if (result.exitCode !== 0) {
    throw new Error(`git ${args.join(" ")} failed (${result.exitCode}): ${result.stderr.toString()}${result.stdout.toString()}`);
  }
  return result.stdout.toString().trim();
}

export function writeFile(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** A repository on `main` with one commit holding `README.md`. */
export function initRepo(dir: string): string {
  sh(dir, "init", "-q", "-b", "main");
  writeFile(dir, "README.md", "hello\n");
  sh(dir, "add", "-A");
  sh(dir, "commit", "-q", "-m", "initial");
  return dir;
}

/** Commits `files` on the current branch of `cwd`. */
export function commitFiles(cwd: string, files: Record<string, string>, message = "change"): string {
  for (const [path, content] of Object.entries(files)) writeFile(cwd, path, content);
  sh(cwd, "add", "-A");
  sh(cwd, "commit", "-q", "-m", message);
  return sh(cwd, "rev-parse", "HEAD");
}

export { IDENTITY as TEST_GIT_IDENTITY };

// The product's git calls inherit the test process's environment: keep them off the machine's
// and the user's configuration too (identity, hooks paths, default branch names).
process.env.GIT_CONFIG_GLOBAL = "/dev/null";
process.env.GIT_CONFIG_NOSYSTEM = "1";
