// Every count the benchmarks use. The default is the full specification; VE_BENCH_QUICK=1
// shrinks the counts for trying the harness out (its figures then do not meet the spec's
// sample sizes, and the table says so).
import { resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");
export const VE = resolve(REPO, "dist/ve");
/** The Bun running this harness: used to run the load client and the SQLite reference. */
export const BUN = process.execPath;

export type SeedMethod = "api" | "sqlite";

export interface BenchConfig {
  quick: boolean;
  /** Measured runs per CLI start-up figure (each command and its reference once per round). */
  cliRuns: number;
  cliWarmup: number;
  /** Units in the project every CLI figure runs against. */
  baseUnits: number;
  /** start/stop cycles. */
  lifecycleCycles: number;
  /** Requests per round for the GET figures, and rounds (the daemon and the bare server alternate). */
  getRequests: number;
  getRounds: number;
  getConcurrency: number;
  /** Creates per round for the POST figures, and rounds (daemon and raw SQLite alternate). */
  postRequests: number;
  postRounds: number;
  postConcurrency: number;
  /** Requests sent before each timed round (not timed). */
  loadWarmup: number;
  /** Unit counts of the scale figure (the first is the reference). */
  scaleUnits: number[];
  scaleRuns: number;
  scaleWarmup: number;
  /** How the scale projects are seeded: `api` (POST /work-units, concurrently) or `sqlite` (the shortcut). */
  seedMethod: SeedMethod;
  seedConcurrency: number;
  /** Requests sent to the daemon between the two RSS readings. */
  memoryRequests: number;
  memoryConcurrency: number;
  /** Which sections run (VE_BENCH_ONLY=cli,api,...); all by default. */
  only: Set<string> | undefined;
}

export const SECTIONS = ["size", "cli", "lifecycle", "api", "scale", "memory", "engine", "events"] as const;
export type Section = (typeof SECTIONS)[number];

function seedMethod(): SeedMethod {
  const value = process.env.VE_BENCH_SEED ?? "api";
  if (value !== "api" && value !== "sqlite") throw new Error(`VE_BENCH_SEED must be api or sqlite, not '${value}'`);
  return value;
}

function only(): Set<string> | undefined {
  const value = process.env.VE_BENCH_ONLY;
  if (!value) return undefined;
  const names = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`VE_BENCH_ONLY: unknown section '${name}' (sections: ${SECTIONS.join(", ")})`);
  }
  return new Set(names);
}

export function loadConfig(): BenchConfig {
  const quick = process.env.VE_BENCH_QUICK === "1";
  const common = { quick, baseUnits: 100, seedMethod: seedMethod(), seedConcurrency: 32, only: only() };
  if (quick) {
    return {
      ...common,
      cliRuns: 10,
      cliWarmup: 2,
      lifecycleCycles: 3,
      getRequests: 2000,
      getRounds: 2,
      getConcurrency: 32,
      postRequests: 300,
      postRounds: 2,
      postConcurrency: 16,
      loadWarmup: 200,
      scaleUnits: [100, 1000, 5000],
      scaleRuns: 5,
      scaleWarmup: 1,
      memoryRequests: 10_000,
      memoryConcurrency: 32,
    };
  }
  return {
    ...common,
    cliRuns: 60,
    cliWarmup: 5,
    lifecycleCycles: 10,
    getRequests: 5000,
    getRounds: 10,
    getConcurrency: 32,
    postRequests: 1000,
    postRounds: 6,
    postConcurrency: 16,
    loadWarmup: 500,
    scaleUnits: [100, 1000, 10_000, 100_000],
    scaleRuns: 21,
    scaleWarmup: 2,
    memoryRequests: 100_000,
    memoryConcurrency: 32,
  };
}

export function wants(config: BenchConfig, section: Section): boolean {
  return config.only === undefined || config.only.has(section);
}
