// Request rates over the socket, from a separate load-client process (the same client for the
// daemon and its reference, the same request count for both, rounds alternating):
//   GET /work-units/:chunk  vs a bare Bun.serve answering a work unit's JSON
//   POST /work-units        vs raw bun:sqlite autocommit inserts with the daemon's pragmas
import { join } from "node:path";
import type { BenchConfig } from "./lib/config.ts";
import { Daemon, tempDir } from "./lib/daemon.ts";
import { type LoadResult, runLoad, unitName } from "./lib/load.ts";
import { round, stats } from "./lib/measure.ts";
import { type References, sqliteInserts, startBareServer } from "./lib/refs.ts";
import { type Figure, compare, figure } from "./lib/report.ts";

function checked(result: LoadResult, what: string): LoadResult {
  if (result.errors > 0) throw new Error(`${what}: ${result.errors} of ${result.requests} requests failed (${result.firstError})`);
  return result;
}

const rps = (results: LoadResult[]) => stats(results.map((r) => r.rps));

export async function benchGet(config: BenchConfig, refs: References, project: Daemon): Promise<Figure[]> {
  const paths = Array.from({ length: project.units }, (_, i) => `/work-units/${unitName(i)}`);
  const sample = await project.get(paths[0] as string);
  if (sample.status !== 200) throw new Error(`GET ${paths[0]} answered ${sample.status}`);
  const bare = await startBareServer(refs.bareServer, sample.text);
  try {
    const figures: Figure[] = [];
    for (const [mode, concurrency] of [
      ["sequential", 1],
      [`${config.getConcurrency} concurrent`, config.getConcurrency],
    ] as const) {
      const daemonRuns: LoadResult[] = [];
      const bareRuns: LoadResult[] = [];
      for (let r = 0; r < config.getRounds; r++) {
        const order = r % 2 === 0 ? (["daemon", "bare"] as const) : (["bare", "daemon"] as const);
        for (const who of order) {
          const socket = who === "daemon" ? project.socket : bare.socket;
          const result = checked(
            await runLoad({
              socket,
              method: "GET",
              paths,
              requests: config.getRequests,
              concurrency,
              warmup: config.loadWarmup,
              expectStatus: 200,
            }),
            `GET (${who}, ${mode})`,
          );
          (who === "daemon" ? daemonRuns : bareRuns).push(result);
        }
      }
      const d = rps(daemonRuns);
      const b = rps(bareRuns);
      // Each round's daemon run next to the bare run of the same round: drift cancels out.
      const paired = stats(daemonRuns.map((x, i) => x.rps / (bareRuns[i] as LoadResult).rps));
      const what = `requests/s, median of ${config.getRounds} rounds of ${config.getRequests} requests (after ${config.loadWarmup} warm-up), ${mode}, Bun fetch over the Unix socket from a separate process`;
      figures.push(
        figure({
          id: `api.get.${concurrency === 1 ? "sequential" : "concurrent"}`,
          label: `GET /work-units/:chunk, ${mode}`,
          measured: { value: d.median, unit: "req/s", what, extra: { min: d.min } },
          reference: {
            label: "bare Bun.serve",
            value: b.median,
            unit: "req/s",
            what: `the same client and request count against the compiled bare server answering a ${sample.text.length}-byte work-unit body`,
            extra: { min: b.min },
          },
          comparison: compare("ratio", d.median, b.median),
          target: { op: ">=", value: 0.8 },
          notes: [`median of the per-round ratios ${paired.median.toFixed(2)}x (min ${paired.min.toFixed(2)}x, max ${paired.max.toFixed(2)}x)`],
          data: {
            paired_ratio: paired,
            body_bytes: sample.text.length,
            daemon: daemonRuns.map((x) => ({ rps: round(x.rps), p50_ms: round(x.latencyMs.median, 3), p90_ms: round(x.latencyMs.p90, 3) })),
            bare: bareRuns.map((x) => ({ rps: round(x.rps), p50_ms: round(x.latencyMs.median, 3), p90_ms: round(x.latencyMs.p90, 3) })),
          },
        }),
      );
    }
    return figures;
  } finally {
    await bare.stop();
  }
}

export async function benchPost(config: BenchConfig): Promise<Figure[]> {
  const daemon = await Daemon.start("posts");
  const refDb = join(tempDir("sqlite-ref"), "ref.db");
  const warmup = Math.min(config.loadWarmup, 100);
  try {
    let next = 0;
    let refNext = 0;
    const sequential: LoadResult[] = [];
    const concurrent: LoadResult[] = [];
    const reference: number[] = [];
    // Warm the reference's file and code once, untimed, as the daemon's runs warm up too.
    await sqliteInserts(refDb, refNext, warmup);
    refNext += warmup;
    const steps = ["ref", "seq", "conc"] as const;
    for (let r = 0; r < config.postRounds; r++) {
      for (let k = 0; k < steps.length; k++) {
        const step = steps[(r + k) % steps.length];
        if (step === "ref") {
          reference.push((await sqliteInserts(refDb, refNext, config.postRequests)).rate);
          refNext += config.postRequests;
          continue;
        }
        const concurrency = step === "seq" ? 1 : config.postConcurrency;
        const result = checked(
          await runLoad({
            socket: daemon.socket,
            method: "POST",
            create: { start: next },
            requests: config.postRequests,
            concurrency,
            warmup,
            expectStatus: 201,
          }),
          `POST (${step})`,
        );
        next += warmup + config.postRequests;
        (step === "seq" ? sequential : concurrent).push(result);
      }
    }
    daemon.units = next;
    const ref = stats(reference);
    const refMeasured = {
      label: "raw bun:sqlite",
      value: ref.median,
      unit: "rows/s",
      what: `autocommit INSERTs (one transaction each) into a work_units-shaped table, WAL, synchronous=NORMAL, busy_timeout, foreign_keys; median of ${config.postRounds} rounds of ${config.postRequests}`,
      extra: { min: ref.min },
    };
    const one = (id: string, label: string, runs: LoadResult[], mode: string) => {
      const s = rps(runs);
      return figure({
        id,
        label,
        measured: {
          value: s.median,
          unit: "creates/s",
          what: `201 responses/s, median of ${config.postRounds} rounds of ${config.postRequests} creates (after ${warmup} warm-up), ${mode}; each create is one immediate transaction (unit + status-log row)`,
          extra: { min: s.min },
        },
        reference: refMeasured,
        comparison: compare("ratio", s.median, ref.median),
        notes: [`median of the per-round ratios ${stats(runs.map((x, i) => x.rps / (reference[i] as number))).median.toFixed(2)}x`],
        data: {
          rounds: runs.map((x) => ({ rps: round(x.rps), p50_ms: round(x.latencyMs.median, 3), p90_ms: round(x.latencyMs.p90, 3) })),
          reference: reference.map((x) => round(x)),
        },
      });
    };
    return [
      one("api.post.sequential", "POST /work-units, sequential", sequential, "sequential"),
      one("api.post.concurrent", `POST /work-units, ${config.postConcurrency} concurrent`, concurrent, `${config.postConcurrency} concurrent`),
    ];
  } finally {
    await daemon.dispose();
  }
}
