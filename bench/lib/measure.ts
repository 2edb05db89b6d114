// Timing helpers: summary statistics, one timed run of a command, and interleaved runs of a
// command against its reference so that machine noise hits both equally.

export interface Stats {
  n: number;
  min: number;
  median: number;
  p90: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  const median = n === 0 ? Number.NaN : n % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return {
    n,
    min: sorted[0] ?? Number.NaN,
    median,
    p90: percentile(sorted, 90),
    max: sorted[n - 1] ?? Number.NaN,
    mean: n === 0 ? Number.NaN : sorted.reduce((a, b) => a + b, 0) / n,
  };
}

export interface CommandSpec {
  /** Short name used in errors and the JSON result. */
  name: string;
  cmd: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Exit code the command must end with (default 0); any other is a harness error. */
  expectExit?: number;
  /** Per-run bound; a run over it is a harness error, never a silent hang. */
  timeoutMs?: number;
}

export interface TimedRun {
  ms: number;
  /** CPU time (user + system) of the child, in ms: less sensitive than wall time to a busy machine. */
  cpuMs: number;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** The environment every measured command gets: no colour, no project from the outside. */
export function benchEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== "VE_PROJECT_DIR") env[key] = value;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

/** Runs the command once and returns its wall time (spawn to exit) in milliseconds. */
export function timeOnce(spec: CommandSpec): TimedRun {
  const start = performance.now();
  const result = Bun.spawnSync({
    cmd: spec.cmd,
    cwd: spec.cwd,
    env: spec.env ?? benchEnv(),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: spec.timeoutMs ?? 30_000,
  });
  const ms = performance.now() - start;
  const cpu = result.resourceUsage?.cpuTime;
  const run = {
    ms,
    cpuMs: cpu ? Number(cpu.total) / 1000 : Number.NaN,
    exitCode: result.exitCode,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
  };
  const expected = spec.expectExit ?? 0;
  if (run.exitCode !== expected) {
    throw new Error(
      `${spec.name}: \`${spec.cmd.join(" ")}\` exited ${run.exitCode ?? `by signal ${result.signalCode}`} (expected ${expected})` +
        `${run.stderr ? `: ${run.stderr.trim().slice(0, 500)}` : ""}`,
    );
  }
  return run;
}

export interface InterleavedResult {
  /** Wall times per command name, in the order they were taken. */
  samples: Record<string, number[]>;
  stats: Record<string, Stats>;
  /** CPU times (user + system) per command name, same order. */
  cpuSamples: Record<string, number[]>;
  cpuStats: Record<string, Stats>;
}

/**
 * Runs every command `warmup` times (discarded), then `runs` rounds in which each command
 * runs once; the order rotates every round (A B C, B C A, ...), so neither a command nor its
 * reference always runs first or always right after the other.
 */
export function interleaved(specs: readonly CommandSpec[], runs: number, warmup: number): InterleavedResult {
  for (let i = 0; i < warmup; i++) for (const spec of specs) timeOnce(spec);
  const samples: Record<string, number[]> = Object.fromEntries(specs.map((s) => [s.name, []]));
  const cpuSamples: Record<string, number[]> = Object.fromEntries(specs.map((s) => [s.name, []]));
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < specs.length; k++) {
      const spec = specs[(round + k) % specs.length] as CommandSpec;
      const run = timeOnce(spec);
      (samples[spec.name] as number[]).push(run.ms);
      (cpuSamples[spec.name] as number[]).push(run.cpuMs);
    }
  }
  const summarize = (all: Record<string, number[]>) => Object.fromEntries(Object.entries(all).map(([name, s]) => [name, stats(s)]));
  return { samples, stats: summarize(samples), cpuSamples, cpuStats: summarize(cpuSamples) };
}

/** Polls `check` every `stepMs` until it holds; returns the elapsed ms, or throws after `timeoutMs`. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 2): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(stepMs);
  }
}

export const round = (value: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** Samples as stored in the JSON result: microsecond resolution is plenty. */
export const rounded = (values: readonly number[] | undefined, digits = 3): number[] => (values ?? []).map((v) => round(v, digits));
