// GET /events: what each Server-Sent Event's `data:` holds, by its `event:` name. The names
// and their ids are a contract (DESIGN.md, "Names that hold"): scripts and the dashboard rely
// on them.
import { type Static, Type } from "@sinclair/typebox";
import { ChunkName, PhaseSchema, StatusSchema, Timestamp, nullable } from "./common.ts";
import { Run } from "./engine.ts";
import { Attention, WorkUnit } from "./work-units.ts";

/** The events of committed changes, each with an increasing integer id. */
export const CHANGE_EVENT_NAMES = [
  "unit.created",
  "unit.changed",
  "unit.deleted",
  "run.started",
  "run.ended",
  "attention.added",
  "attention.resolved",
] as const;
export type ChangeEventName = (typeof CHANGE_EVENT_NAMES)[number];

/**
 * Events about the stream itself: `reset` (the resume point is older than the buffer: reread
 * the state), `dropped` (this subscriber fell further behind than the buffer holds; the
 * stream ends), `shutdown` (the daemon is stopping; the stream ends).
 */
export const STREAM_EVENT_NAMES = ["reset", "dropped", "shutdown"] as const;
export type StreamEventName = (typeof STREAM_EVENT_NAMES)[number];

export const UnitEventData = Type.Object(
  {
    chunk: ChunkName,
    old_status: nullable(StatusSchema),
    new_status: nullable(StatusSchema),
    old_phase: nullable(PhaseSchema),
    new_phase: nullable(PhaseSchema),
    reason: Type.String(),
    timestamp: Timestamp,
    /** The unit as the transaction left it; null once deleted. */
    unit: nullable(WorkUnit),
  },
  { additionalProperties: false },
);
export type UnitEventData = Static<typeof UnitEventData>;

export const RunEventData = Type.Object({ chunk: ChunkName, run: Run }, { additionalProperties: false });
export type RunEventData = Static<typeof RunEventData>;

export const AttentionEventData = Type.Object(
  {
    chunk: ChunkName,
    /** The record added, or (resolved) the one that no longer holds. */
    attention: Attention,
    /** resolved: why (the unit's change that went with it). */
    reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type AttentionEventData = Static<typeof AttentionEventData>;

export const StreamEventData = Type.Object(
  {
    /** One sentence a person can act on. */
    message: Type.String({ minLength: 1 }),
    /** reset: the id the client asked to resume after. */
    last_event_id: Type.Optional(Type.Integer()),
    /** reset: the oldest id the buffer still holds (null: it holds none). */
    oldest_event_id: Type.Optional(nullable(Type.Integer())),
  },
  { additionalProperties: false },
);
export type StreamEventData = Static<typeof StreamEventData>;

export const EventsQuery = Type.Object(
  {
    /** For clients that cannot send the header (curl): the same as Last-Event-ID. */
    last_event_id: Type.Optional(
      Type.String({ pattern: "^[0-9]{1,16}$", errorMessage: "must be a whole number: the id of the last event received" }),
    ),
  },
  { additionalProperties: false },
);

/** One event as the typed client yields it (and `ve orch events --json` prints it). */
export type DaemonEvent =
  | { id: number; event: "unit.created" | "unit.changed" | "unit.deleted"; data: UnitEventData }
  | { id: number; event: "run.started" | "run.ended"; data: RunEventData }
  | { id: number; event: "attention.added" | "attention.resolved"; data: AttentionEventData }
  | { id: number | null; event: StreamEventName; data: StreamEventData };

/** The schema the OpenAPI document shows for the stream: any one event's `data`. */
export const EventData = Type.Union([UnitEventData, RunEventData, AttentionEventData, StreamEventData]);
