// What a route plugin gets and how it describes itself. A plugin is a function from the
// RouteContext to an Elysia instance; each route passes `detail: op.detail` from an operation()
// so its OpenAPI entry (summary, success schema, every error status) and the serializer of its
// answer come from one declaration.
import type { TSchema } from "@sinclair/typebox";
import type { AnyElysia } from "elysia";
import type { ErrorCode } from "../../errors.ts";
import { ErrorBody, type OpenApiDocument, type Transport } from "../../models/index.ts";
import type { EngineApi } from "../../engine/api.ts";
import type { EventHub } from "../../engine/events.ts";
import type { Store } from "../../state/store.ts";
import type { ReadCache } from "../cache.ts";
import { httpStatusOfCode } from "../errors.ts";
import { type Serializer, serializer } from "../respond.ts";

export interface AppInfo {
  pid: number;
  version: string;
  startedAt: Date;
  projectDir: string;
  transport: Transport;
  socket: string | null;
  port: number | null;
}

export interface RouteContext {
  store: Store;
  /** The engine's side of the API: inject, runs, settings, worktrees. */
  engine: EngineApi;
  info: AppInfo;
  /** Every committed change as an event (GET /events). */
  events: EventHub;
  /** Answers to reads, kept until the store reports a change (see cache.ts). */
  cache: ReadCache;
  /** A JSON answer carrying the version header. */
  reply(body: string, status?: number): Response;
  /**
   * Runs a write and builds its answer in one transaction: if the answer cannot be built (its
   * serializer refuses it), the write is rolled back, so a 500 never hides a committed change.
   */
  commit<T>(work: () => T): T;
  /** The OpenAPI document of every route of the app (openapi.ts). */
  openapi(): OpenApiDocument;
}

/** One plugin per resource: `(ctx) => new Elysia(...).get(...)`, listed in routes/index.ts. */
export type RoutePlugin = (ctx: RouteContext) => AnyElysia;

/** Errors any route can answer, whatever it does: refused callers and a daemon that failed. */
export const COMMON_ERRORS: readonly ErrorCode[] = [
  // Every route validates its query (most refuse any parameter), and no parameter may repeat.
  "validation_failed",
  "forbidden",
  "unauthorized",
  "internal",
  "database_unavailable",
  "storage_unavailable",
];
/** Errors of every route that writes. */
export const WRITE_ERRORS: readonly ErrorCode[] = ["storage_full"];
/** Errors of every route that takes a JSON body, from reading it (body.ts). */
export const BODY_ERRORS: readonly ErrorCode[] = ["payload_too_large", "unsupported_media_type"];

export interface OperationSpec<T extends TSchema> {
  summary: string;
  description?: string;
  /** The success status and the schema of its body. */
  status: number;
  response: T;
  /** The error codes this route answers beyond COMMON_ERRORS (and BODY_ERRORS for a body). */
  errors: readonly ErrorCode[];
  /** The route takes a JSON body (and so answers BODY_ERRORS). */
  body?: boolean;
  /** The route writes (and so answers WRITE_ERRORS); its answer is built inside `ctx.commit`. */
  write?: boolean;
  /** Requests to show in docs/api.md (checked against the OpenAPI document by a test). */
  examples?: readonly RouteExample[];
  /** The success answer's media type, when it is not JSON (a stream of Server-Sent Events). */
  mediaType?: "text/event-stream";
}

export interface RouteExample {
  title: string;
  /** Values of the path's parameters (`{ chunk: "parser" }`). */
  params?: Record<string, string>;
  /** The query string without `?` (`status=READY`). */
  query?: string;
  /** Request headers beyond the content type (an agent's run secret). */
  headers?: Record<string, string>;
  body?: unknown;
}

interface MediaSchema {
  description: string;
  /** application/json, or (GET /events) text/event-stream with the schema of each event's data. */
  content: Record<string, { schema: TSchema }>;
}

/** The OpenAPI operation fields a route carries in Elysia's `detail`. */
export interface RouteDetail {
  summary: string;
  description?: string;
  responses: Record<string, MediaSchema>;
  /** Every error code of the route, by name (the statuses alone do not tell them apart). */
  "x-error-codes": ErrorCode[];
  "x-examples": RouteExample[];
}

export interface Operation<T extends TSchema> {
  detail: RouteDetail;
  status: number;
  serialize: Serializer<T>;
}

/** Error codes grouped by the HTTP status they are answered with, in status order. */
export function errorsByStatus(codes: Iterable<ErrorCode>): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = httpStatusOfCode(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

/** `name` says which answer failed its schema, in the daemon log. */
export function operation<T extends TSchema>(name: string, spec: OperationSpec<T>): Operation<T> {
  const codes = [
    ...new Set([...spec.errors, ...(spec.body ? BODY_ERRORS : []), ...(spec.write ? WRITE_ERRORS : []), ...COMMON_ERRORS]),
  ];
  const responses: Record<string, MediaSchema> = {
    [String(spec.status)]: { description: spec.summary, content: { [spec.mediaType ?? "application/json"]: { schema: spec.response } } },
  };
  for (const [status, group] of errorsByStatus(codes)) {
    responses[String(status)] = {
      description: `Error: ${group.join(", ")}.`,
      content: { "application/json": { schema: ErrorBody } },
    };
  }
  const detail: RouteDetail = {
    summary: spec.summary,
    responses,
    "x-error-codes": codes,
    "x-examples": [...(spec.examples ?? [])],
  };
  if (spec.description !== undefined) detail.description = spec.description;
  return { detail, status: spec.status, serialize: serializer(spec.response, name) };
}
