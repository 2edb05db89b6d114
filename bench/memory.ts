// Daemon memory: VmRSS of a freshly started daemon against a bare Bun.serve process, both idle;
// then the daemon's growth over a load of requests.
import { readFileSync } from "node:fs";
import type { BenchConfig } from "./lib/config.ts";
import { Daemon, rssKb } from "./lib/daemon.ts";
import { runLoad, unitName } from "./lib/load.ts";
import { round, stats } from "./lib/measure.ts";
import { BareServer, type References } from "./lib/refs.ts";
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
  let bare: BareServer | undefined;
  try {
    // Idle: each process has served exactly one request (the daemon: start's readiness probe).
    const daemonIdle = await settledRssMb(daemon.pid);
    bare = await BareServer.start(refs.bareServer, body);
    const bareIdle = await settledRssMb(bare.pid);
    await bare.stop();
    bare = undefined;

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
    await daemon.dispose();
  }
}
