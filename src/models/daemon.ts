// The daemon's own state, as `GET /status` answers it.
import { type Static, Type } from "@sinclair/typebox";
import { StatusCounts, Timestamp, nullable } from "./common.ts";

export const Transport = Type.Union([Type.Literal("unix"), Type.Literal("tcp")]);
export type Transport = Static<typeof Transport>;

/** `<os>-<arch>[-musl]`, as in the release file names. */
export const BuildTarget = Type.String({ pattern: "^[a-z0-9]+-[a-z0-9]+(-musl)?$" });

// What a binary says of itself (`ve --version --json`); the daemon's GET /status carries the same
// fields for the daemon's binary. commit and built_at are null when run from source.
const buildFields = {
  version: Type.String(),
  commit: nullable(Type.String()),
  built_at: nullable(Timestamp),
  target: BuildTarget,
};

export const BuildInfo = Type.Object(buildFields, { additionalProperties: false });
export type BuildInfo = Static<typeof BuildInfo>;

export const DaemonStatus = Type.Object(
  {
    running: Type.Literal(true),
    pid: Type.Integer({ minimum: 1 }),
    ...buildFields,
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

