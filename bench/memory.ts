// Daemon memory: VmRSS of a freshly started daemon against a bare Bun.serve process, both idle;
// the floor of the daemon's stack (a minimal Elysia + bun:sqlite server, idle, taken the same
// way) against the same bare server; then the daemon's growth over a load of requests.
import { readFileSync } from "node:fs";
import type { BenchConfig } from "./lib/config.ts";
import { Daemon, rssKb } from "./lib/daemon.ts";
import { runLoad, unitName } from "./lib/load.ts";
import { round, stats } from "./lib/measure.ts";
import { type References, type ReferenceServer, startBareServer, startElysiaServer } from "./lib/refs.ts";
import { type Figure, compare, figure } from "./lib/report.ts";

const SETTLE_MS = 1000;

/** Median of a few VmRSS readings, in MB (10^6 bytes), after letting the process settle. */
async function settledRssMb(pid: number): Promise<number> {
  await Bun.sleep(SETTLE_MS);
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(rssKb(pid));
    await Bun.sleep(50);
  }
  return (stats(readings).median * 1024) / 1e6;
}

function peakMb(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? (Number(match[1]) * 1024) / 1e6 : Number.NaN;
}

export async function benchMemory(config: BenchConfig, refs: References, body: string): Promise<Figure[]> {
  const daemon = await Daemon.start("memory");
  let bare: ReferenceServer | undefined;
  let floor: ReferenceServer | undefined;
  try {
    // Idle: each process has served exactly one request (the daemon: start's readiness probe;
    // the references: the one probe their start makes), then settles for the same time.
    const daemonIdle = await settledRssMb(daemon.pid);
    bare = await startBareServer(refs.bareServer, body);
    const bareIdle = await settledRssMb(bare.pid);
    await bare.stop();
    bare = undefined;
    floor = await startElysiaServer(refs.elysiaServer);
    const floorIdle = await settledRssMb(floor.pid);
    await floor.stop();
    floor = undefined;

    await daemon.seedApi(config.baseUnits, config.seedConcurrency);
    const before = await settledRssMb(daemon.pid);
    // Mostly single units, with the status and a full list now and then.
    const paths = [...Array.from({ length: config.baseUnits }, (_, i) => `/work-units/${unitName(i)}`), "/status", "/work-units"];
    const load = await runLoad({
      socket: daemon.socket,
      method: "GET",
      paths,
      requests: config.memoryRequests,
      concurrency: config.memoryConcurrency,
      warmup: 0,
      expectStatus: 200,
    });
    if (load.errors > 0) throw new Error(`memory load: ${load.errors} requests failed (${load.firstError})`);
    const rightAfter = (rssKb(daemon.pid) * 1024) / 1e6;
    const after = await settledRssMb(daemon.pid);
    const peak = peakMb(daemon.pid);
    const grown = Math.max(rightAfter, after);

    const what = `VmRSS from /proc/<pid>/status, median of 5 readings after ${SETTLE_MS} ms idle`;
    return [
      figure({
        id: "memory.idle",
        label: "daemon RSS idle",
        measured: { value: daemonIdle, unit: "MB", what: `${what}; freshly started daemon, empty project` },
        reference: { label: "bare Bun.serve", value: bareIdle, unit: "MB", what: `${what}; the compiled bare server after one request` },
        comparison: compare("ratio", daemonIdle, bareIdle),
        target: { op: "<=", value: 1.5 },
      }),
      figure({
        id: "memory.floor",
        label: "minimal Elysia + bun:sqlite server (floor)",
        measured: {
          value: floorIdle,
          unit: "MB",
          what: `${what}; the compiled minimal server (new Elysia(), one route reading a row from bun:sqlite in WAL mode, Bun.serve on a Unix socket) after one GET /x/1`,
        },
        reference: { label: "bare Bun.serve", value: bareIdle, unit: "MB", what: `${what}; the compiled bare server after one request` },
        comparison: compare("ratio", floorIdle, bareIdle),
        notes: [
          `reference figure, no target: what Elysia and bun:sqlite alone weigh over a bare server; the daemon idle is ${(daemonIdle / floorIdle).toFixed(2)}x this floor (${daemonIdle - floorIdle >= 0 ? "+" : ""}${(daemonIdle - floorIdle).toFixed(1)} MB)`,
        ],
        data: { daemon_idle_mb: round(daemonIdle), daemon_vs_floor: round(daemonIdle / floorIdle, 3), floor_vs_bare: round(floorIdle / bareIdle, 3) },
      }),
      figure({
        id: "memory.growth",
        label: `daemon RSS after ${config.memoryRequests} requests`,
        measured: {
          value: grown,
          unit: "MB",
          what: `the larger of VmRSS right after the load and ${SETTLE_MS} ms later; ${config.memoryRequests} GETs (units, /status, the list), ${config.memoryConcurrency} concurrent`,
          extra: { right_after: rightAfter, settled: after, peak },
        },
        reference: { label: "same daemon before", value: before, unit: "MB", what: `${what}; the same daemon with ${config.baseUnits} units, before the load` },
        comparison: compare("delta", grown, before, "MB"),
        target: { op: "<", value: 20 },
        notes: [`load ran at ${Math.round(load.rps)} req/s`],
        data: { load_rps: round(load.rps), latency_ms: load.latencyMs },
      }),
    ];
  } finally {
    await bare?.stop();
    await floor?.stop();
    await daemon.dispose();
  }
}
