// The engine's settings: every key, its type, its default and what it does, in one table.
// Values are persisted in SQLite (state/config.ts), validated here, and read by the engine on
// every use, so `ve orch config KEY VALUE` takes effect at once without a restart.
import type { BackendConfig } from "../agents/backend.ts";
import { BACKEND_NAMES } from "../agents/registry.ts";
import type { ConfigValue } from "../domain.ts";
import { VeError } from "../errors.ts";

export type { ConfigValue } from "../domain.ts";
export { BACKEND_NAMES, type BackendName } from "../agents/registry.ts";

interface KeyBase {
  description: string;
}
type KeyDef = KeyBase &
  (
    | { type: "integer"; default: number; min: number; max: number; unit?: string }
    | { type: "number"; default: number; min: number; max: number }
    | { type: "string"; default: string | null; choices?: readonly string[] }
    | { type: "string_list"; default: readonly string[] }
  );

/** Codex's sandbox modes (`-c sandbox_mode=...`); kept here so the CLI's config never loads the backend. */
export const CODEX_SANDBOX_MODES = ["workspace-write", "read-only", "danger-full-access"] as const;

/** Claude Code's permission modes that run headless (bypassPermissions is refused as root). */
export const CLAUDE_PERMISSION_MODES = ["acceptEdits", "bypassPermissions", "default", "dontAsk", "plan", "auto"] as const;

const backendKeys = Object.fromEntries(
  BACKEND_NAMES.flatMap((name) => [
    [
      `backends.${name}.path`,
      {
        type: "string",
        default: null,
        description:
          name === "command"
            ? "The program the command backend runs as the agent (required to use it)"
            : `The ${name} executable (default: \`${name}\` on the PATH)`,
      },
    ],
    [`backends.${name}.args`, { type: "string_list", default: [], description: `Extra arguments for every ${name} run (a JSON array)` }],
  ]),
) as Record<string, KeyDef>;

export const CONFIG_KEYS: Readonly<Record<string, KeyDef>> = {
  max_agents: { type: "integer", default: 2, min: 1, max: 64, description: "Agent runs at once (each needs a CPU and memory of its own)" },
  backend: { type: "string", default: "command", choices: BACKEND_NAMES, description: "The backend new injects get (`inject --backend` overrides)" },
  ...backendKeys,
  "backends.claude.permission_mode": {
    type: "string",
    default: "acceptEdits",
    choices: CLAUDE_PERMISSION_MODES,
    description: "Claude Code's --permission-mode (acceptEdits: edits inside the worktree, and it works as root)",
  },
  "backends.codex.sandbox": {
    type: "string",
    default: "workspace-write",
    choices: CODEX_SANDBOX_MODES,
    description: "Codex's sandbox_mode (workspace-write: writes in the worktree and /tmp only, no network; works as root)",
  },
  run_timeout_s: { type: "integer", default: 3600, min: 1, max: 7 * 24 * 3600, unit: "s", description: "Wall-clock limit of one run" },
  silence_timeout_s: { type: "integer", default: 900, min: 1, max: 7 * 24 * 3600, unit: "s", description: "A run printing nothing this long is ended" },
  "retries.transient": { type: "integer", default: 5, min: 0, max: 100, description: "Retries of a transient failure (overloaded, 5xx, network) before it needs a person" },
  "retries.failed": { type: "integer", default: 2, min: 0, max: 100, description: "Retries of a failed run (the agent crashed or exited non-zero)" },
  "retries.timeout": { type: "integer", default: 1, min: 0, max: 100, description: "Retries of a run ended by a time or silence limit" },
  "retries.limit": { type: "integer", default: 10, min: 0, max: 1000, description: "Waits for a usage limit to reset before it needs a person" },
  backoff_base_s: { type: "integer", default: 10, min: 1, max: 3600, unit: "s", description: "First retry delay; doubles each time" },
  backoff_max_s: { type: "integer", default: 600, min: 1, max: 24 * 3600, unit: "s", description: "Longest retry delay" },
  on_attention: { type: "string", default: null, description: "A command run with /bin/sh -c, the attention record as JSON on stdin, when a unit starts needing a person" },
  on_attention_timeout_s: { type: "integer", default: 30, min: 1, max: 3600, unit: "s", description: "on_attention is killed after this long" },
  verify: {
    type: "string",
    default: null,
    description: "The landing gate: a command (/bin/sh -c) run on each unit's exact merge commit in a scratch worktree; only a green one lands (none: units land unchecked)",
  },
  verify_timeout_s: { type: "integer", default: 1800, min: 1, max: 7 * 24 * 3600, unit: "s", description: "Wall-clock limit of one gate run of verify" },
  "retries.gate": { type: "integer", default: 2, min: 0, max: 100, description: "Fix runs of the unit's agent after a red gate before it needs a person" },
  "guard.max_deleted_ratio": {
    type: "number",
    default: 0.5,
    min: 0,
    max: 1,
    description: "A phase commit or landing deleting more than this share of the base's files needs a person (1: never)",
  },
  "guard.max_file_mb": { type: "integer", default: 100, min: 1, max: 1024 * 1024, unit: "MB", description: "A phase commit adding or changing a file larger than this needs a person" },
  "guard.max_files": { type: "integer", default: 10000, min: 1, max: 100_000_000, description: "A phase commit adding more files than this needs a person" },
};

export type ConfigSource = "default" | "config";

export interface ConfigEntry {
  key: string;
  value: ConfigValue;
  default: ConfigValue;
  source: ConfigSource;
  description: string;
}

function unknownKey(key: string): VeError {
  const near = Object.keys(CONFIG_KEYS).filter((k) => k.split(".")[0] === key.split(".")[0]);
  const hint = near.length > 0 ? ` (did you mean ${near.join(", ")}?)` : "";
  return new VeError("validation_failed", `'${key}' is not a setting${hint}; \`ve orch config\` lists them all.`, {
    field: "key",
    key,
  });
}

export function keyDefinition(key: string): KeyDef {
  const def = Object.hasOwn(CONFIG_KEYS, key) ? CONFIG_KEYS[key] : undefined;
  if (!def) throw unknownKey(key);
  return def;
}

function invalid(key: string, why: string, value: unknown): VeError {
  return new VeError("validation_failed", `${key} ${why}, not ${JSON.stringify(value)}.`, { field: "value", key });
}

/** Checks a value (already JSON) for `key`; returns it normalised. */
export function validateConfigValue(key: string, value: unknown): ConfigValue {
  const def = keyDefinition(key);
  switch (def.type) {
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value) || value < def.min || value > def.max) {
        throw invalid(key, `must be a whole number from ${def.min} to ${def.max}${def.unit ? ` (${def.unit})` : ""}`, value);
      }
      return value;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value) || value < def.min || value > def.max) {
        throw invalid(key, `must be a number from ${def.min} to ${def.max}`, value);
      }
      return value;
    case "string":
      if (value === null && def.default === null) return null;
      if (typeof value !== "string" || value.trim() === "" || value.length > 4096) throw invalid(key, "must be a non-empty text", value);
      if (def.choices && !def.choices.includes(value)) throw invalid(key, `must be one of ${def.choices.join(", ")}`, value);
      return value;
    case "string_list":
      if (!Array.isArray(value) || value.length > 256 || !value.every((v) => typeof v === "string" && v.length <= 4096)) {
        throw invalid(key, 'must be a JSON array of strings, like ["--model", "x"]', value);
      }
      return value as string[];
  }
}

/** A value as typed on a command line: numbers as numbers, lists as JSON arrays, text as is. */
export function parseConfigText(key: string, text: string): ConfigValue {
  const def = keyDefinition(key);
  if (def.type === "integer") {
    if (!/^\d+$/.test(text.trim())) throw invalid(key, `must be a whole number from ${def.min} to ${def.max}`, text);
    return validateConfigValue(key, Number(text.trim()));
  }
  if (def.type === "number") {
    if (!/^\d+(\.\d+)?$|^\.\d+$/.test(text.trim())) throw invalid(key, `must be a number from ${def.min} to ${def.max}`, text);
    return validateConfigValue(key, Number(text.trim()));
  }
  if (def.type === "string_list") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw invalid(key, 'must be a JSON array of strings, like ["--model", "x"]', text);
    }
    return validateConfigValue(key, parsed);
  }
  return validateConfigValue(key, text);
}

/** Every key with its effective value and where it came from, in the table's order. */
export function effectiveConfig(stored: ReadonlyMap<string, ConfigValue>): ConfigEntry[] {
  return Object.entries(CONFIG_KEYS).map(([key, def]) => {
    const has = stored.has(key);
    const fallback = (def.type === "string_list" ? [...def.default] : def.default) as ConfigValue;
    return { key, value: has ? (stored.get(key) as ConfigValue) : fallback, default: fallback, source: has ? "config" : "default", description: def.description };
  });
}

/** Typed access for the engine: the value of `key` now. */
export function configValue<T extends ConfigValue>(stored: ReadonlyMap<string, ConfigValue>, key: string): T {
  const def = keyDefinition(key);
  return (stored.has(key) ? stored.get(key) : def.default) as T;
}

/** A backend's `backends.<name>.path` and `.args` as its launch() gets them. */
export function backendConfig(stored: ReadonlyMap<string, ConfigValue>, name: string): BackendConfig {
  const known = Object.hasOwn(CONFIG_KEYS, `backends.${name}.path`);
  return {
    path: (known ? configValue<string | null>(stored, `backends.${name}.path`) : null) ?? undefined,
    args: known ? configValue<string[]>(stored, `backends.${name}.args`) : [],
    ...(Object.hasOwn(CONFIG_KEYS, `backends.${name}.permission_mode`) ? { permissionMode: configValue<string>(stored, `backends.${name}.permission_mode`) } : {}),
    ...(Object.hasOwn(CONFIG_KEYS, `backends.${name}.sandbox`) ? { sandbox: configValue<string>(stored, `backends.${name}.sandbox`) } : {}),
  };
}
