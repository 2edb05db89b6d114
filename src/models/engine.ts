// The engine's resources: injecting units the scheduler runs, their runs, the engine's
// settings, and the worktrees it keeps.
import { type Static, Type } from "@sinclair/typebox";
import { BACKEND_NAMES } from "../agents/registry.ts";
import { ChunkName, PhaseSchema, Timestamp, nullable, oneOf } from "./common.ts";
import { AgentCall } from "./agent.ts";
import { BlockedBy, WorkUnit } from "./work-units.ts";

const requestBody = { additionalProperties: false, errorMessage: "must be a JSON object" } as const;

export const GOAL_MAX_CHARS = 100_000;

export const InjectRequest = Type.Object(
  {
    chunks: Type.Array(ChunkName, { minItems: 1, maxItems: 1000, errorMessage: "must be a list of 1-1000 chunk names" }),
    goal: Type.Optional(Type.String({ minLength: 1, maxLength: GOAL_MAX_CHARS, errorMessage: `must be 1-${GOAL_MAX_CHARS} characters` })),
    phase: Type.Optional(PhaseSchema),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000, errorMessage: "must be a whole number from -1000 to 1000" })),
    blocked_by: Type.Optional(BlockedBy),
    base: Type.Optional(Type.String({ minLength: 1, maxLength: 255, errorMessage: "must be a branch name" })),
    backend: Type.Optional(oneOf(BACKEND_NAMES)),
    verify: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, pattern: "\\S", errorMessage: "must be a command line of 1-4096 characters" })),
  },
  requestBody,
);
export type InjectRequest = Static<typeof InjectRequest>;

export const Injected = Type.Object(
  { work_units: Type.Array(WorkUnit), count: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type Injected = Static<typeof Injected>;

export const OUTCOME_VALUES = ["completed", "question", "failed", "limit", "timeout", "interrupted"] as const;

export const Run = Type.Object(
  {
    id: Type.String(),
    chunk: ChunkName,
    phase: PhaseSchema,
    attempt: Type.Integer({ minimum: 1 }),
    purpose: oneOf(["phase", "resolve", "fix"] as const),
    backend: Type.String(),
    backend_version: nullable(Type.String()),
    session_id: nullable(Type.String()),
    pid: nullable(Type.Integer()),
    process_start: nullable(Type.String()),
    started_at: Timestamp,
    ended_at: nullable(Timestamp),
    outcome: nullable(oneOf(OUTCOME_VALUES)),
    reason: nullable(Type.String()),
    exit_code: nullable(Type.Integer()),
    /** The run's own cost: for a resumed Claude session, its share of the session's total. */
    cost_usd: nullable(Type.Number()),
    /** The CLI's running total over the session when the run ended. */
    session_cost_usd: nullable(Type.Number()),
    /** The models the run used, as the CLI reported them. */
    models: Type.Array(Type.String()),
    /** How the run was billed, as the CLI reported it; null when unknown. */
    billing: nullable(oneOf(["api_key", "login"] as const)),
    turns: nullable(Type.Integer()),
    input_tokens: nullable(Type.Integer()),
    output_tokens: nullable(Type.Integer()),
    /** The last summary its agent reported (report_done, `ve agent done`). */
    summary: nullable(Type.String()),
    /** What its agent told the daemon (ask_operator, report_done, `ve agent`, AskUserQuestion), in order. */
    agent_calls: Type.Array(AgentCall),
    /** The operator's answer to the question it asked (`ve orch answer`); null while there is none. */
    answer: nullable(Type.String()),
    answered_at: nullable(Timestamp),
    /** Where its output is kept. */
    log: Type.String(),
  },
  { additionalProperties: false },
);
export type Run = Static<typeof Run>;

export const RunList = Type.Object({ runs: Type.Array(Run), count: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
export type RunList = Static<typeof RunList>;

export const RunFilter = Type.Object({ chunk: Type.Optional(ChunkName) }, { additionalProperties: false });
export const RunParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9-]+$" }) }, { additionalProperties: false });

/** The longest `ve orch stop --drain --timeout` (one hour), in milliseconds. */
export const MAX_DRAIN_MS = 3_600_000;

export const ShutdownRequest = Type.Object(
  { drain_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DRAIN_MS, errorMessage: `must be a whole number of milliseconds from 0 to ${MAX_DRAIN_MS}` })) },
  requestBody,
);
export type ShutdownRequest = Static<typeof ShutdownRequest>;

export const ShutdownResult = Type.Object(
  {
    /** Runs that finished their phase while the daemon drained. */
    finished: Type.Integer({ minimum: 0 }),
    /** Runs still running when the bound passed; the stop closes them `interrupted`. */
    interrupted: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type ShutdownResult = Static<typeof ShutdownResult>;

export const RetryRequest = Type.Object(
  {
    fresh: Type.Optional(Type.Boolean({ errorMessage: "must be true or false" })),
    /** Keep the unit's base as it is now, though it was moved backwards since ve last landed on it. */
    accept_base: Type.Optional(Type.Boolean({ errorMessage: "must be true or false" })),
  },
  requestBody,
);

const ConfigValueSchema = Type.Union([Type.Number(), Type.String(), Type.Array(Type.String()), Type.Null()]);

export const ConfigEntry = Type.Object(
  {
    key: Type.String(),
    value: ConfigValueSchema,
    default: ConfigValueSchema,
    source: oneOf(["default", "config"] as const),
    description: Type.String(),
  },
  { additionalProperties: false },
);
export type ConfigEntry = Static<typeof ConfigEntry>;

export const ConfigList = Type.Object({ settings: Type.Array(ConfigEntry) }, { additionalProperties: false });
export type ConfigList = Static<typeof ConfigList>;

export const ConfigParams = Type.Object({ key: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });
export const SetConfig = Type.Object({ value: Type.Unknown() }, requestBody);

export const WorktreeInfo = Type.Object(
  {
    chunk: nullable(ChunkName),
    path: Type.String(),
    branch: nullable(Type.String()),
    state: oneOf(["active", "missing", "orphaned"] as const),
    locked: Type.Boolean(),
    size_bytes: nullable(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type WorktreeInfo = Static<typeof WorktreeInfo>;

export const WorktreeList = Type.Object({ worktrees: Type.Array(WorktreeInfo) }, { additionalProperties: false });
export type WorktreeList = Static<typeof WorktreeList>;

export const PruneRequest = Type.Object({ apply: Type.Optional(Type.Boolean({ errorMessage: "must be true or false" })) }, requestBody);
export const PruneResult = Type.Object(
  {
    applied: Type.Boolean(),
    /** Orphaned worktrees removed (applied) or that would be (dry run). */
    worktrees: Type.Array(WorktreeInfo),
    /** What could not be removed, and why. */
    refused: Type.Array(Type.Object({ path: Type.String(), reason: Type.String() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type PruneResult = Static<typeof PruneResult>;
