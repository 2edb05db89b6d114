// The backends as the API shows them: each one's program as the daemon resolves it, and the
// report of `ve orch backend check` (a one-line prompt run through the backend, step by step).
import { type Static, Type } from "@sinclair/typebox";
import { nullable, oneOf } from "./common.ts";
import { OUTCOME_VALUES } from "./engine.ts";

const requestBody = { additionalProperties: false, errorMessage: "must be a JSON object" } as const;

/** Loose on purpose: any name that fits a path segment is looked up, and an unknown one is told the known ones. */
export const BackendName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
  errorMessage: "must be a backend name (letters, digits, ., - and _)",
});
export const BackendParams = Type.Object({ name: BackendName }, { additionalProperties: false });

export const BackendInfo = Type.Object(
  {
    name: Type.String(),
    /** The backend new injects get (`ve orch config backend`). */
    default: Type.Boolean(),
    /** `backends.<name>.path`, when set. */
    configured_path: nullable(Type.String()),
    /** `backends.<name>.args`. */
    args: Type.Array(Type.String()),
    /** The program the daemon would run, found on its PATH or at the configured path; null when not found. */
    executable: nullable(Type.String()),
    /** Its version (`--version`), for backends with a CLI of known make; null when unknown. */
    version: nullable(Type.String()),
    /** The oldest version the backend works with, if it declares one. */
    min_version: nullable(Type.String()),
    /** What is wrong with the program and what to do about it; null when nothing is. */
    problem: nullable(Type.String()),
  },
  { additionalProperties: false },
);
export type BackendInfo = Static<typeof BackendInfo>;

export const BackendList = Type.Object({ backends: Type.Array(BackendInfo) }, { additionalProperties: false });
export type BackendList = Static<typeof BackendList>;

/** The longest `ve orch backend check --timeout` (ten minutes), in seconds. */
export const MAX_CHECK_TIMEOUT_S = 600;
/** The default bound on the check's run, in seconds: a real model answers a one-line prompt well within it. */
export const DEFAULT_CHECK_TIMEOUT_S = 120;

export const CheckRequest = Type.Object(
  {
    timeout_s: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_CHECK_TIMEOUT_S, errorMessage: `must be a whole number of seconds from 1 to ${MAX_CHECK_TIMEOUT_S}` }),
    ),
  },
  requestBody,
);
export type CheckRequest = Static<typeof CheckRequest>;

export const CHECK_STEPS = ["executable", "version", "start", "outcome"] as const;

export const CheckStep = Type.Object(
  {
    step: oneOf(CHECK_STEPS),
    /** true: works; false: failed (the check fails); null: skipped or could not be told. */
    ok: nullable(Type.Boolean()),
    /** What was found, one sentence. */
    summary: Type.String(),
    /** For a failed step: what to do. */
    hint: nullable(Type.String()),
  },
  { additionalProperties: false },
);
export type CheckStep = Static<typeof CheckStep>;

export const BackendCheck = Type.Object(
  {
    backend: Type.String(),
    /** Every step worked: the run completed. */
    ok: Type.Boolean(),
    steps: Type.Array(CheckStep),
    executable: nullable(Type.String()),
    version: nullable(Type.String()),
    min_version: nullable(Type.String()),
    outcome: nullable(oneOf(OUTCOME_VALUES)),
    reason: nullable(Type.String()),
    exit_code: nullable(Type.Integer()),
    /** What the agent answered (its text events, bounded). */
    reply: nullable(Type.String()),
    /** The last lines it printed, to explain a failure. */
    output: Type.Array(Type.String()),
    cost_usd: nullable(Type.Number()),
    turns: nullable(Type.Integer()),
    input_tokens: nullable(Type.Integer()),
    output_tokens: nullable(Type.Integer()),
    /** Milliseconds from the start of the agent to its end (null when it never started). */
    duration_ms: nullable(Type.Integer({ minimum: 0 })),
    /** The scratch directory it ran in; removed when the check ended. */
    scratch_dir: nullable(Type.String()),
  },
  { additionalProperties: false },
);
export type BackendCheck = Static<typeof BackendCheck>;
