// The attention queue: every unit waiting on a person, in the order to work it, and the
// requests that resolve a wait (an answer to a question, a retry of all or one kind).
import { type Static, Type } from "@sinclair/typebox";
import { ChunkName, PhaseSchema, Timestamp, nullable, oneOf } from "./common.ts";
import { ATTENTION_KINDS, WorkUnit } from "./work-units.ts";

const requestBody = { additionalProperties: false, errorMessage: "must be a JSON object" } as const;

/** The longest answer a person may give (a paragraph or a pasted snippet, not a file). */
export const ANSWER_MAX_CHARS = 100_000;
/** The most options a question offers that an answer can pick by number. */
export const OPTION_MAX = 1000;

export const AttentionEntry = Type.Object(
  {
    chunk: ChunkName,
    phase: PhaseSchema,
    /** The scheduler runs it; false: a tracked unit a person or a script set NEEDS_ATTENTION. */
    scheduled: Type.Boolean(),
    /** What it waits for; null for a unit set NEEDS_ATTENTION by hand, which has no record. */
    kind: nullable(oneOf(ATTENTION_KINDS)),
    reason: Type.String(),
    question: nullable(Type.String()),
    /** The choices a question offers; `ve orch answer CHUNK --option N` picks one (1-based). */
    options: Type.Array(Type.String()),
    since: Timestamp,
    /** Whole seconds it has waited when the queue was read. */
    waiting_s: Type.Integer({ minimum: 0 }),
    run_id: nullable(Type.String()),
    /** What is wrong in one stable word, where a script may act on it (`storage_full`). */
    code: Type.Optional(Type.String()),
    /** How many units wait on it, directly or through others: what resolving it releases. */
    releases: Type.Integer({ minimum: 0 }),
    /** The command that resolves it (answer a question, retry the rest). */
    command: Type.String(),
  },
  { additionalProperties: false },
);
export type AttentionEntry = Static<typeof AttentionEntry>;

export const AttentionQueue = Type.Object(
  { attention: Type.Array(AttentionEntry), count: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type AttentionQueue = Static<typeof AttentionQueue>;

export const AttentionFilter = Type.Object({ kind: Type.Optional(oneOf(ATTENTION_KINDS)) }, { additionalProperties: false });
export type AttentionFilter = Static<typeof AttentionFilter>;

export const AnswerRequest = Type.Object(
  {
    /** The operator's reply, as text. */
    answer: Type.Optional(
      Type.String({ minLength: 1, maxLength: ANSWER_MAX_CHARS, errorMessage: `must be 1-${ANSWER_MAX_CHARS} characters` }),
    ),
    /** Or one of the question's options by its number (1-based, as `ve orch attention` shows them). */
    option: Type.Optional(Type.Integer({ minimum: 1, maximum: OPTION_MAX, errorMessage: `must be a whole number from 1 to ${OPTION_MAX}` })),
  },
  requestBody,
);
export type AnswerRequest = Static<typeof AnswerRequest>;

export const RetryAllRequest = Type.Object(
  {
    /** Only the units waiting for this kind of reason. */
    kind: Type.Optional(oneOf(ATTENTION_KINDS)),
    /** Also start new agent sessions instead of resuming. */
    fresh: Type.Optional(Type.Boolean({ errorMessage: "must be true or false" })),
  },
  requestBody,
);
export type RetryAllRequest = Static<typeof RetryAllRequest>;

export const RetriedUnits = Type.Object(
  { retried: Type.Array(WorkUnit), count: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type RetriedUnits = Static<typeof RetriedUnits>;
