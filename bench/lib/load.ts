// Request-rate measurements are driven from a separate process (bench/tools/load-client.ts),
// the same client for the daemon and for its reference, so the harness's own work never
// competes inside the process that measures.
import { resolve } from "node:path";
import { BUN } from "./config.ts";
import type { Stats } from "./measure.ts";

const CLIENT = resolve(import.meta.dir, "../tools/load-client.ts");

/** The chunk name of the i-th seeded unit: sortable, well inside the allowed characters. */
export function unitName(i: number): string {
  return `u${String(i).padStart(6, "0")}`;
}

export interface LoadSpec {
  /** Unix socket of the server. */
  socket: string;
  method: "GET" | "POST";
  /** GET: the paths to request, cycled in order. */
  paths?: string[];
  /** POST /work-units: request i (warm-up included) creates `unitName(start + i)`. */
  create?: { start: number };
  /** Timed requests, after `warmup` untimed ones. */
  requests: number;
  concurrency: number;
  warmup: number;
  /** Any other status counts as an error. */
  expectStatus: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  firstError?: string;
  seconds: number;
  /** Timed requests per second. */
  rps: number;
  /** Per-request latency of the timed requests. */
  latencyMs: Stats;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const child = Bun.spawn({
    cmd: [BUN, CLIENT],
    stdin: new Blob([JSON.stringify(spec)]),
    stdout: "pipe",
    stderr: "pipe",
  });
  // A load run never takes minutes; if it does, something hangs.
  const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`load client exited ${code}: ${stderr.trim().slice(0, 500)}`);
  return JSON.parse(stdout) as LoadResult;
}
