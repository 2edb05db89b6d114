// The daemon's own state, as `GET /status` answers it.
import { type Static, Type } from "@sinclair/typebox";
import { StatusCounts, Timestamp, nullable } from "./common.ts";

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

