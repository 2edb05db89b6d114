// Building blocks every resource's schemas share. Each schema carries `errorMessage`, the
// sentence a person reads when a value does not fit (see validation.ts).
import { type Static, type TLiteral, type TSchema, type TUnion, Type } from "@sinclair/typebox";
import { CHUNK_NAME_MARK, CHUNK_NAME_MAX_LENGTH, CHUNK_NAME_PATTERN, CHUNK_NAME_RULE, PHASES, STATUSES } from "../domain.ts";

export const nullable = <T extends TSchema>(schema: T, options: { errorMessage?: string } = {}) =>
  Type.Union([schema, Type.Null()], options);

export const ChunkName = Type.String({
  minLength: 1,
  maxLength: CHUNK_NAME_MAX_LENGTH,
  pattern: CHUNK_NAME_PATTERN,
  errorMessage: `must be ${CHUNK_NAME_RULE}`,
  // validation.ts then names the rule a string broke, quoting it, instead of the whole rule.
  [CHUNK_NAME_MARK]: true,
});

type TLiterals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

/** A union of string literals whose static type keeps every member (a plain map loses them). */
export function oneOf<const T extends readonly string[]>(values: T): TUnion<TLiterals<T>> {
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

export const StatusCounts = Type.Object(
  Object.fromEntries(STATUSES.map((s) => [s, Type.Integer({ minimum: 0 })])) as Record<
    (typeof STATUSES)[number],
    ReturnType<typeof Type.Integer>
  >,
  { additionalProperties: false },
);
export type StatusCounts = Static<typeof StatusCounts>;

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

