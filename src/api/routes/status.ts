// GET /status: the daemon itself.
import { Elysia } from "elysia";
import { DaemonStatus, NoQuery } from "../../models/index.ts";
import { buildInfo } from "../../version.ts";
import { type RouteContext, operation } from "./kit.ts";

const getStatus = operation("GET /status", {
  summary: "The daemon's process, address and work unit counts",
  status: 200,
  response: DaemonStatus,
  errors: ["validation_failed"],
  examples: [{ title: "Is it running, and what does it hold" }],
});

export const statusRoutes = ({ store, info, reply }: RouteContext) =>
  new Elysia({ normalize: false }).get(
    "/status",
    () => {
      const now = Date.now();
      const build = buildInfo();
      return reply(
        getStatus.serialize({
          running: true,
          pid: info.pid,
          version: info.version,
          // The daemon's own binary, as `ve --version --json` describes it.
          commit: build.commit,
          built_at: build.built_at,
          target: build.target,
          started_at: info.startedAt.toISOString(),
          uptime_seconds: Math.max(0, Math.round((now - info.startedAt.getTime()) / 100) / 10),
          project_dir: info.projectDir,
          transport: info.transport,
          socket: info.socket,
          port: info.port,
          work_unit_counts: store.countsByStatus(),
        }),
      );
    },
    { query: NoQuery, detail: getStatus.detail },
  );
