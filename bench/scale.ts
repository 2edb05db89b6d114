// `ve orch ps --json` as the number of units grows: one daemon per size, all up at once, runs
// interleaved across sizes; the 100-unit project is the reference.
import type { BenchConfig } from "./lib/config.ts";
import { VE } from "./lib/config.ts";
import { Daemon } from "./lib/daemon.ts";
import { type CommandSpec, benchEnv, interleaved, round, rounded, timeOnce } from "./lib/measure.ts";
import { type Figure, compare, figure } from "./lib/report.ts";

export interface SeedRecord {
  units: number;
  method: "api" | "sqlite";
  seconds: number;
  per_second: number;
}

/** Tolerance on "no faster than linear": the per-unit cost of the last decade over the one before. */
export const SLOPE_RATIO_TARGET = 1.5;

async function seed(daemon: Daemon, units: number, config: BenchConfig): Promise<SeedRecord> {
  const began = performance.now();
  if (config.seedMethod === "sqlite") await daemon.seedSqlite(units);
  else await daemon.seedApi(units, config.seedConcurrency);
  const seconds = (performance.now() - began) / 1000;
  return { units, method: config.seedMethod, seconds: round(seconds, 2), per_second: round(units / seconds, 0) };
}

export async function benchScale(
  config: BenchConfig,
  base: Daemon,
  log: (line: string) => void,
): Promise<{ figures: Figure[]; seeding: SeedRecord[] }> {
  const [first, ...rest] = config.scaleUnits;
  if (first !== base.units) throw new Error(`the first scale point (${first}) must be the base project's ${base.units} units`);
  const daemons: Daemon[] = [];
  const seeding: SeedRecord[] = [];
  try {
    for (const units of rest) {
      const daemon = await Daemon.start(`scale-${units}`);
      daemons.push(daemon);
      const record = await seed(daemon, units, config);
      seeding.push(record);
      log(`seeded ${units} units via ${record.method} in ${record.seconds} s (${record.per_second}/s)`);
    }
    const env = benchEnv();
    const all = [base, ...daemons];
    const specs: CommandSpec[] = all.map((d) => ({
      name: String(d.units),
      cmd: [VE, "orch", "ps", "--json"],
      cwd: d.dir,
      env,
      timeoutMs: 60_000,
    }));
    // Each output is what it claims to be, before anything is timed.
    for (const [i, spec] of specs.entries()) {
      const doc = JSON.parse(timeOnce(spec).stdout) as { count: number };
      if (doc.count !== all[i]!.units) throw new Error(`ps --json in the ${spec.name}-unit project listed ${doc.count} units`);
    }
    const result = interleaved(specs, config.scaleRuns, config.scaleWarmup);
    const ref = result.stats[String(first)]!;
    const what = `wall time of \`ve orch ps --json\`, median of ${config.scaleRuns} runs after ${config.scaleWarmup} warm-ups, interleaved across all sizes`;
    const reference = { label: `${first} units`, value: ref.median, unit: "ms", what, extra: { p90: ref.p90 } };
    const figures: Figure[] = [
      figure({
        id: `scale.ps_json.${first}`,
        label: `ve orch ps --json, ${first} units`,
        measured: { value: ref.median, unit: "ms", what, extra: { p90: ref.p90 } },
        notes: ["the reference of the rows below"],
        data: { stats: ref, samples: rounded(result.samples[String(first)]) },
      }),
    ];
    for (const d of daemons) {
      const s = result.stats[String(d.units)]!;
      figures.push(
        figure({
          id: `scale.ps_json.${d.units}`,
          label: `ve orch ps --json, ${d.units} units`,
          measured: { value: s.median, unit: "ms", what, extra: { p90: s.p90 } },
          reference,
          comparison: compare("ratio", s.median, ref.median),
          ...(d.units === 10_000 ? { target: { op: "<=" as const, value: 3 } } : {}),
          notes: [`${round(((s.median - ref.median) * 1000) / (d.units - first), 2)} µs per unit above the ${first}-unit time`],
          data: { stats: s, samples: rounded(result.samples[String(d.units)]) },
        }),
      );
    }
    // Linear growth: the marginal cost per unit of the last step is no larger than the step before.
    if (config.scaleUnits.length >= 3) {
      const n = config.scaleUnits;
      const t = n.map((u) => result.stats[String(u)]!.median);
      const k = n.length - 1;
      const slope = (i: number) => ((t[i]! - t[i - 1]!) * 1000) / (n[i]! - n[i - 1]!);
      const last = slope(k);
      const before = slope(k - 1);
      figures.push(
        figure({
          id: "scale.linearity",
          label: `ps --json per-unit cost ${n[k - 1]}->${n[k]}`,
          measured: { value: last, unit: "µs/unit", what: `(t(${n[k]}) - t(${n[k - 1]})) / ${n[k]! - n[k - 1]!} units, from the medians above` },
          reference: {
            label: `${n[k - 2]}->${n[k - 1]}`,
            value: before,
            unit: "µs/unit",
            what: `(t(${n[k - 1]}) - t(${n[k - 2]})) / ${n[k - 1]! - n[k - 2]!} units`,
          },
          comparison: compare("ratio", last, before),
          target: { op: "<=", value: SLOPE_RATIO_TARGET },
          notes: [
            `linear growth gives a ratio near 1; ${SLOPE_RATIO_TARGET}x is the tolerance for noise (quadratic growth would give ~${Math.round(
              (n[k]! + n[k - 1]!) / (n[k - 1]! + n[k - 2]!),
            )}x)`,
          ],
        }),
      );
    }
    return { figures, seeding };
  } finally {
    for (const d of daemons) await d.dispose();
  }
}
