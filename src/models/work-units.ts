// Work units: the unit itself, what a request may set, and the answers of its routes.
import { type Static, Type } from "@sinclair/typebox";
import { ATTENTION_KINDS, WORKTREE_MAX_LENGTH } from "../domain.ts";

export const ACTOR_MAX_LENGTH = 200;
import { ChunkName, PhaseSchema, StatusSchema, Timestamp, nullable, oneOf } from "./common.ts";

/** Upper bound on one unit's blocker list: far above real use, low enough to bound the work. */
export const BLOCKED_BY_MAX_ITEMS = 1000;

export const BlockedBy = Type.Array(ChunkName, {
  maxItems: BLOCKED_BY_MAX_ITEMS,
  errorMessage: `must be a list of at most ${BLOCKED_BY_MAX_ITEMS} chunk names`,
});

export const Worktree = nullable(Type.String({ minLength: 1, maxLength: WORKTREE_MAX_LENGTH }), {
  errorMessage: `must be a path of 1-${WORKTREE_MAX_LENGTH} characters, or null`,
});

const Force = Type.Boolean({ errorMessage: "must be true or false" });

/** Who made a change, as the status log records it (free text: a script's name, a pid). */
export const Actor = Type.String({
  minLength: 1,
  maxLength: ACTOR_MAX_LENGTH,
  errorMessage: `must be 1-${ACTOR_MAX_LENGTH} characters naming who makes the change`,
});

const chunkNames = (description: string) => Type.Array(ChunkName, { description });

/** What a unit in NEEDS_ATTENTION waits on a person for. */
export { ATTENTION_KINDS, type AttentionKind } from "../domain.ts";

export const Attention = Type.Object(
  {
    kind: oneOf(ATTENTION_KINDS),
    /** One sentence a person can act on. */
    reason: Type.String({ minLength: 1 }),
    question: Type.Optional(Type.String()),
    options: Type.Optional(Type.Array(Type.String())),
    since: Timestamp,
    /** The run it came from, if any. */
    run_id: nullable(Type.String()),
    /** What is wrong in one stable word, where a script may act on it (`storage_full`). */
    code: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Attention = Static<typeof Attention>;

const WorkUnitFields = {
  chunk: ChunkName,
  phase: PhaseSchema,
  status: StatusSchema,
  depends_on: chunkNames("Every dependency declared, in the order given; kept after the blocker is DONE"),
  blocked_by: chunkNames("The unfinished subset of depends_on: what the unit still waits on"),
  unknown_blockers: chunkNames(
    "Names in depends_on that are not work units (allowed, and waited on like unfinished ones: often a typo)",
  ),
  dependents: chunkNames("The units whose depends_on names this one, in creation order"),
  worktree: Worktree,
  created_at: Timestamp,
  updated_at: Timestamp,
  /** When the status last changed. */
  status_changed_at: Timestamp,
  /** The scheduler runs it (`ve orch inject`); false: only tracked. */
  scheduled: Type.Boolean(),
  /** Higher goes first among units that release as many others. */
  priority: Type.Integer(),
  /** The branch a scheduled unit lands on; null for a tracked unit. */
  base_branch: nullable(Type.String({ minLength: 1 })),
  /**
   * The base commit a scheduled unit's branch was made from, written when its first run makes
   * the branch and kept as the base moves on; null before that, and for a tracked unit.
   */
  branch_base_commit: nullable(Type.String({ pattern: "^[0-9a-f]{40,64}$" })),
  /** Why it waits on a person, while it is NEEDS_ATTENTION; else null. */
  attention: nullable(Attention),
};

export const WorkUnit = Type.Object(WorkUnitFields, { additionalProperties: false });
export type WorkUnit = Static<typeof WorkUnit>;

/** The fields a request may set on a unit, when creating it or changing it. */
const SettableFields = {
  phase: Type.Optional(PhaseSchema),
  status: Type.Optional(StatusSchema),
  blocked_by: Type.Optional(BlockedBy),
  worktree: Type.Optional(Worktree),
};

const requestBody = { additionalProperties: false, errorMessage: "must be a JSON object" } as const;

export const CreateWorkUnit = Type.Object({ chunk: ChunkName, ...SettableFields }, requestBody);
export type CreateWorkUnit = Static<typeof CreateWorkUnit>;

export const UpdateWorkUnit = Type.Object(
  {
    ...SettableFields,
    force: Type.Optional(Force),
    expected_updated_at: Type.Optional(Timestamp),
    /** Conditional change: refused (409 status_mismatch) unless the unit has this status. */
    expected_status: Type.Optional(StatusSchema),
    actor: Type.Optional(Actor),
  },
  requestBody,
);
export type UpdateWorkUnit = Static<typeof UpdateWorkUnit>;

/** What one write did to the unit asked about, in the same transaction as the change. */
export const Previous = Type.Object(
  { status: StatusSchema, phase: PhaseSchema, updated_at: Timestamp },
  { additionalProperties: false },
);

/** The fields of a unit a write can change, as `changed` names them. */
export const CHANGEABLE_FIELDS = ["status", "phase", "depends_on", "worktree"] as const;
export type ChangeableField = (typeof CHANGEABLE_FIELDS)[number];

/**
 * The answer of a change (PATCH, claim): the unit as the write left it, plus what it was
 * before that write and which fields the write changed (none for a no-op).
 */
export const WorkUnitChanged = Type.Object(
  {
    ...WorkUnitFields,
    previous: Previous,
    changed: Type.Array(oneOf(CHANGEABLE_FIELDS)),
  },
  { additionalProperties: false },
);
export type WorkUnitChanged = Static<typeof WorkUnitChanged>;

export const ClaimWorkUnit = Type.Object(
  {
    /** Only units in this phase. */
    phase: Type.Optional(PhaseSchema),
    actor: Type.Optional(Actor),
  },
  requestBody,
);
export type ClaimWorkUnit = Static<typeof ClaimWorkUnit>;

/** One entry of the change feed: a committed change to one unit. */
export const WorkUnitChange = Type.Object(
  {
    kind: oneOf(["created", "changed", "deleted"] as const),
    chunk: ChunkName,
    old_status: nullable(StatusSchema),
    new_status: nullable(StatusSchema),
    old_phase: nullable(PhaseSchema),
    new_phase: nullable(PhaseSchema),
    reason: Type.String(),
    timestamp: Timestamp,
  },
  { additionalProperties: false },
);
export type WorkUnitChange = Static<typeof WorkUnitChange>;

export const WorkUnitFilter = Type.Object(
  {
    status: Type.Optional(StatusSchema),
    phase: Type.Optional(PhaseSchema),
  },
  { additionalProperties: false },
);
export type WorkUnitFilter = Static<typeof WorkUnitFilter>;

/** Routes that take no query parameters still refuse unknown ones instead of ignoring them. */
export const NoQuery = Type.Object({}, { additionalProperties: false });

export const ChunkParams = Type.Object({ chunk: ChunkName }, { additionalProperties: false });

export const DeleteQuery = Type.Object(
  { force: Type.Optional(Force) },
  { additionalProperties: false },
);

export const WorkUnitList = Type.Object(
  { work_units: Type.Array(WorkUnit), count: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type WorkUnitList = Static<typeof WorkUnitList>;

export const Deleted = Type.Object(
  { deleted: Type.Literal(true), chunk: ChunkName },
  { additionalProperties: false },
);
export type Deleted = Static<typeof Deleted>;

/** One row of the status log: a creation, or a change of status and/or phase. */
export const StatusLogEntry = Type.Object(
  {
    id: Type.Integer({ minimum: 1 }),
    chunk: ChunkName,
    old_status: nullable(StatusSchema),
    new_status: StatusSchema,
    old_phase: nullable(PhaseSchema),
    new_phase: nullable(PhaseSchema),
    reason: nullable(Type.String()),
    forced: Type.Boolean(),
    actor: nullable(Type.String()),
    timestamp: Timestamp,
  },
  { additionalProperties: false },
);
export type StatusLogEntry = Static<typeof StatusLogEntry>;

export const History = Type.Object(
  { chunk: ChunkName, history: Type.Array(StatusLogEntry) },
  { additionalProperties: false },
);
export type History = Static<typeof History>;

