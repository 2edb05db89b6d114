// The repository's shared settings: its config files and hooks in the common git directory.
// Every worktree's git reads them, the user's checkout included, and every agent can write
// them. The engine's own git runs none of their commands (git.ts), but the user's git would:
// a change made while a run ran is reported to a person, never taken silently.
import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { git, runGit } from "./git.ts";

export interface RepoSettings {
  commonDir: string;
  /** Config files by path below the common directory (`config`, `worktrees/a/config.worktree`): their text. */
  configs: Record<string, string>;
  /** Hooks by name: a digest of what git would run (content and executable bit, or a link's target). */
  hooks: Record<string, string>;
}

/** The repository's common git directory (the main `.git`, also from a linked worktree). */
export async function commonGitDir(repo: string): Promise<string> {
  return (await git(["rev-parse", "--path-format=absolute", "--git-common-dir"], { cwd: repo })).trim();
}

function entries(dir: string): import("node:fs").Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? undefined : `(unreadable: ${code})`;
  }
}

function hookDigest(path: string): string {
  try {
    const info = lstatSync(path);
    if (info.isSymbolicLink()) return `link to ${readlinkSync(path)}`;
    if (!info.isFile()) return "not a file";
    const digest = createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16);
    return `${digest}${info.mode & 0o111 ? " executable" : ""}`;
  } catch (error) {
    return `unreadable (${(error as NodeJS.ErrnoException).code})`;
  }
}

/** Reads the settings as they are now; no git runs (this is taken at every run's start). */
export function readRepoSettings(commonDir: string): RepoSettings {
  const configs: Record<string, string> = {};
  const files = ["config", "config.worktree", ...entries(`${commonDir}/worktrees`).map((w) => `worktrees/${w.name}/config.worktree`)];
  for (const file of files) {
    const text = readText(`${commonDir}/${file}`);
    if (text !== undefined) configs[file] = text;
  }
  const hooks: Record<string, string> = {};
  // git never runs a `.sample`: editing one changes nothing.
  for (const entry of entries(`${commonDir}/hooks`)) {
    if (!entry.name.endsWith(".sample")) hooks[entry.name] = hookDigest(`${commonDir}/hooks/${entry.name}`);
  }
  return { commonDir, configs, hooks };
}

/**
 * Settings a person's everyday git writes (`push -u`, `checkout --track`, `branch -d/-m`),
 * which run nothing: a change to them during a run is no reason to stop a unit.
 */
const EVERYDAY_CONFIG_KEY = /^branch\..+\.(remote|merge|rebase|description)$/;

/** `key=value` lines of a config file (git lower-cases section and key names), in file order. */
export type ConfigLines = readonly string[];

/**
 * What changed between two readings, one line per change, for a person to read: config lines
 * added (`+`) or removed (`-`) per file, hooks added, changed or removed. Pure.
 */
export function describeSettingsChanges(
  before: { configs: Record<string, ConfigLines>; hooks: Record<string, string> },
  after: { configs: Record<string, ConfigLines>; hooks: Record<string, string> },
): string[] {
  const changes: string[] = [];
  const files = [...new Set([...Object.keys(before.configs), ...Object.keys(after.configs)])].sort();
  for (const file of files) {
    const old = [...(before.configs[file] ?? [])];
    const now = [...(after.configs[file] ?? [])];
    const removed: string[] = [];
    for (const line of old) {
      const at = now.indexOf(line);
      if (at === -1) removed.push(line);
      else now.splice(at, 1);
    }
    const relevant = (line: string) => !EVERYDAY_CONFIG_KEY.test(line.split("=")[0] ?? "");
    for (const line of removed.filter(relevant)) changes.push(`${file}: - ${line}`);
    for (const line of now.filter(relevant)) changes.push(`${file}: + ${line}`);
  }
  const hooks = [...new Set([...Object.keys(before.hooks), ...Object.keys(after.hooks)])].sort();
  for (const hook of hooks) {
    const old = before.hooks[hook];
    const now = after.hooks[hook];
    if (old === now) continue;
    changes.push(old === undefined ? `hooks/${hook}: added` : now === undefined ? `hooks/${hook}: removed` : `hooks/${hook}: changed`);
  }
  return changes;
}

/** A config file's settings as git reads them (`git config --file - --list`: nothing is run). */
async function configLines(text: string, cwd: string): Promise<ConfigLines> {
  const result = await runGit(["config", "--file", "-", "--list", "-z"], { cwd, input: text });
  // A file git cannot parse is compared as text: still a change, and still shown.
  if (result.code !== 0) return text.split("\n").filter((line) => line.trim() !== "").map((line) => `(unparsed) ${line.trim()}`);
  return result.stdout
    .split("\0")
    .filter((entry) => entry !== "")
    .map((entry) => {
      const newline = entry.indexOf("\n");
      return newline === -1 ? entry : `${entry.slice(0, newline)}=${entry.slice(newline + 1)}`;
    });
}

/** The changes since `before` was read (see describeSettingsChanges); git runs only when a file differs. */
export async function repoSettingsChanges(before: RepoSettings, cwd: string): Promise<string[]> {
  const after = readRepoSettings(before.commonDir);
  const files = [...new Set([...Object.keys(before.configs), ...Object.keys(after.configs)])];
  const differing = files.filter((file) => before.configs[file] !== after.configs[file]);
  const names = new Set([...Object.keys(before.hooks), ...Object.keys(after.hooks)]);
  const sameHooks = [...names].every((name) => before.hooks[name] === after.hooks[name]);
  if (differing.length === 0 && sameHooks) return [];
  const parse = async (configs: Record<string, string>) => {
    const parsed: Record<string, ConfigLines> = {};
    for (const file of differing) if (configs[file] !== undefined) parsed[file] = await configLines(configs[file] as string, cwd);
    return parsed;
  };
  return describeSettingsChanges({ configs: await parse(before.configs), hooks: before.hooks }, { configs: await parse(after.configs), hooks: after.hooks });
}
