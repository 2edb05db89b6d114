// Work units: the unit itself, what a request may set, and the answers of its routes.
import { type Static, Type } from "@sinclair/typebox";
import { WORKTREE_MAX_LENGTH } from "../domain.ts";
import { ChunkName, PhaseSchema, StatusSchema, Timestamp, nullable } from "./common.ts";

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

export const WorkUnit = Type.Object(
  {
    chunk: ChunkName,
    phase: PhaseSchema,
    status: StatusSchema,
    blocked_by: BlockedBy,
    worktree: Worktree,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);
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
  },
  requestBody,
);
export type UpdateWorkUnit = Static<typeof UpdateWorkUnit>;

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

