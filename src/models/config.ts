// The settings' value types and the names their keys are made of, below every layer that reads
// or stores settings (the state's config table, the API's models); the key table itself and its
// validation are the engine's (engine/config.ts, which re-exports these).
export type ConfigValue = number | string | string[] | null;

interface KeyBase {
  description: string;
}
export type KeyDef = KeyBase &
  (
    | { type: "integer"; default: number; min: number; max: number; unit?: string }
    | { type: "number"; default: number; min: number; max: number }
    | { type: "string"; default: string | null; choices?: readonly string[] }
    | { type: "string_list"; default: readonly string[] }
  );

/** Backends the engine knows; `backends.<name>.*` keys exist for each. */
export const BACKEND_NAMES = ["command", "claude", "codex"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Codex's sandbox modes (`-c sandbox_mode=...`); kept here so the CLI's config never loads the backend. */
export const CODEX_SANDBOX_MODES = ["workspace-write", "read-only", "danger-full-access"] as const;

/** Claude Code's permission modes that run headless (bypassPermissions is refused as root). */
export const CLAUDE_PERMISSION_MODES = ["acceptEdits", "bypassPermissions", "default", "dontAsk", "plan", "auto"] as const;
