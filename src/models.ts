// The one description of every shape that crosses a boundary: the API validates requests and
// responses with these schemas, the store validates its input with them, and the client and
// CLI use their Static<> types. Each schema carries `errorMessage`, the sentence a person
// reads when a value does not fit (see validation.ts).
import { type Static, type TLiteral, type TSchema, type TUnion, Type } from "@sinclair/typebox";
import {
  CHUNK_NAME_MAX_LENGTH,
  CHUNK_NAME_PATTERN,
  CHUNK_NAME_RULE,
  PHASES,
  STATUSES,
  WORKTREE_MAX_LENGTH,
} from "./domain.ts";

export { PHASES, STATUSES } from "./domain.ts";
export type { Phase, Status } from "./domain.ts";

/** Upper bound on one unit's blocker list: far above real use, low enough to bound the work. */
export const BLOCKED_BY_MAX_ITEMS = 1000;

const nullable = <T extends TSchema>(schema: T, options: { errorMessage?: string } = {}) =>
  Type.Union([schema, Type.Null()], options);

export const ChunkName = Type.String({
  minLength: 1,
  maxLength: CHUNK_NAME_MAX_LENGTH,
  pattern: CHUNK_NAME_PATTERN,
  errorMessage: `must be ${CHUNK_NAME_RULE}`,
});

type TLiterals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

/** A union of string literals whose static type keeps every member (a plain map loses them). */
function oneOf<const T extends readonly string[]>(values: T): TUnion<TLiterals<T>> {
  const members = values.map((v) => Type.Literal(v)) as unknown as TLiterals<T>;
  return Type.Union(members, { errorMessage: `must be one of ${values.join(", ")}` }) as TUnion<TLiterals<T>>;
}

export const PhaseSchema = oneOf(PHASES);
export const StatusSchema = oneOf(STATUSES);

/** ISO-8601 UTC with milliseconds and `Z`, as `Date.prototype.toISOString` writes it. */
export const Timestamp = Type.String({
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$",
  errorMessage: "must be an ISO-8601 UTC timestamp with milliseconds, like 2026-01-31T12:00:00.000Z",
});

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

export const StatusCounts = Type.Object(
  Object.fromEntries(STATUSES.map((s) => [s, Type.Integer({ minimum: 0 })])) as Record<
    (typeof STATUSES)[number],
    ReturnType<typeof Type.Integer>
  >,
  { additionalProperties: false },
);
export type StatusCounts = Static<typeof StatusCounts>;

export const Transport = Type.Union([Type.Literal("unix"), Type.Literal("tcp")]);
export type Transport = Static<typeof Transport>;

export const DaemonStatus = Type.Object(
  {
    running: Type.Literal(true),
    pid: Type.Integer({ minimum: 1 }),
    version: Type.String(),
    started_at: Timestamp,
    uptime_seconds: Type.Number({ minimum: 0 }),
    project_dir: Type.String(),
    transport: Transport,
    socket: nullable(Type.String()),
    port: nullable(Type.Integer({ minimum: 1, maximum: 65535 })),
    work_unit_counts: StatusCounts,
  },
  { additionalProperties: false },
);
export type DaemonStatus = Static<typeof DaemonStatus>;

export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ pattern: "^[a-z][a-z0-9_]*$" }),
        message: Type.String({ minLength: 1 }),
        details: Type.Optional(Type.Unknown()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ErrorBody = Static<typeof ErrorBody>;

// --- Documents the CLI prints with --json beyond the API's own bodies --------------------

export const StartResult = Type.Object(
  { already_running: Type.Boolean(), daemon: DaemonStatus },
  { additionalProperties: false },
);
export type StartResult = Static<typeof StartResult>;

export const StopResult = Type.Object(
  {
    /** A daemon was running and has ended. */
    stopped: Type.Boolean(),
    pid: nullable(Type.Integer({ minimum: 1 })),
    /** It ignored SIGTERM for the whole timeout and was killed. */
    killed: Type.Boolean(),
    /** Files a crashed daemon left, now removed. */
    removed_stale_files: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type StopResult = Static<typeof StopResult>;

export const WorkUnitDetail = Type.Object(
  { work_unit: WorkUnit, history: Type.Array(StatusLogEntry) },
  { additionalProperties: false },
);
export type WorkUnitDetail = Static<typeof WorkUnitDetail>;

export const LogLines = Type.Object(
  { log: Type.String(), lines: Type.Array(Type.String()) },
  { additionalProperties: false },
);
export type LogLines = Static<typeof LogLines>;
