// Documents the CLI prints with --json beyond the API's own bodies.
import { type Static, Type } from "@sinclair/typebox";
import { nullable } from "./common.ts";
import { DaemonStatus } from "./daemon.ts";
import { StatusLogEntry, WorkUnit } from "./work-units.ts";

export const StartResult = Type.Object(
  { already_running: Type.Boolean(), daemon: DaemonStatus },
  { additionalProperties: false },
);
export type StartResult = Static<typeof StartResult>;

/** `ve orch status --json` when no daemon answers (exit 3): what is known without one. */
export const DaemonNotRunning = Type.Object(
  {
    running: Type.Literal(false),
    project_dir: Type.String(),
    /** The same sentence a person sees: why, and what to run. */
    message: Type.String(),
    /** Files a crashed daemon left in .ve/ (the next start removes them). */
    stale_files: Type.Array(Type.String()),
    /** The pid file names this process, which no longer runs. */
    stale_pid: nullable(Type.Integer({ minimum: 1 })),
    /** A process holds the daemon lock but serves no socket (`ve orch stop` ends it). */
    lock_holder: nullable(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type DaemonNotRunning = Static<typeof DaemonNotRunning>;

export const StopResult = Type.Object(
  {
    /** A daemon was running and has ended. */
    stopped: Type.Boolean(),
    pid: nullable(Type.Integer({ minimum: 1 })),
    /** It ignored SIGTERM for the whole timeout and was killed. */
    killed: Type.Boolean(),
    /** Files a crashed daemon left, now removed. */
    removed_stale_files: Type.Array(Type.String()),
    /** `stop --drain` only: runs that finished while it drained, and those still running after the bound (interrupted); null when no daemon ran. */
    drained: Type.Optional(
      nullable(Type.Object({ finished: Type.Integer({ minimum: 0 }), interrupted: Type.Integer({ minimum: 0 }) }, { additionalProperties: false })),
    ),
  },
  { additionalProperties: false },
);
export type StopResult = Static<typeof StopResult>;

export const RestartResult = Type.Object(
  {
    /** The stop, as `ve orch stop --json` reports it (`stopped: false` when none ran). */
    stop: StopResult,
    /** The start, as `ve orch start --json` reports it. */
    start: StartResult,
    /** The version of the daemon that was stopped, if it answered. */
    previous_version: nullable(Type.String()),
  },
  { additionalProperties: false },
);
export type RestartResult = Static<typeof RestartResult>;

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
