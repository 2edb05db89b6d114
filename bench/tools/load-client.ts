// The load client: reads a LoadSpec (JSON) on stdin, sends the requests with Bun's fetch over
// the Unix socket, `concurrency` in flight at a time, and prints a LoadResult (JSON) on stdout.
// Run as its own process by bench/lib/load.ts, for the daemon and its references alike.
import { type LoadResult, type LoadSpec, unitName } from "../lib/load.ts";
import { stats } from "../lib/measure.ts";

const spec = JSON.parse(await Bun.stdin.text()) as LoadSpec;
const total = spec.warmup + spec.requests;
const latencies = new Float64Array(spec.requests);
let next = 0;
let errors = 0;
let firstError: string | undefined;

function request(i: number): Promise<Response> {
  if (spec.method === "GET") {
    const paths = spec.paths ?? ["/"];
    return fetch(`http://localhost${paths[i % paths.length]}`, { unix: spec.socket });
  }
  const start = spec.create?.start ?? 0;
  return fetch("http://localhost/work-units", {
    unix: spec.socket,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ chunk: unitName(start + i) }),
  });
}

async function one(i: number): Promise<void> {
  const began = performance.now();
  try {
    const response = await request(i);
    const body = await response.text();
    if (response.status !== spec.expectStatus) {
      errors++;
      firstError ??= `HTTP ${response.status}: ${body.slice(0, 200)}`;
    }
  } catch (error) {
    errors++;
    firstError ??= (error as Error).message;
  }
  if (i >= spec.warmup) latencies[i - spec.warmup] = performance.now() - began;
}

async function worker(limit: number): Promise<void> {
  for (;;) {
    const i = next++;
    if (i >= limit) return;
    await one(i);
  }
}

const concurrency = Math.max(1, spec.concurrency);
// Warm-up: the same requests, same concurrency, not timed.
await Promise.all(Array.from({ length: concurrency }, () => worker(spec.warmup)));
next = spec.warmup;
errors = 0;
firstError = undefined;
const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, () => worker(total)));
const seconds = (performance.now() - started) / 1000;

const result: LoadResult = {
  requests: spec.requests,
  errors,
  ...(firstError ? { firstError } : {}),
  seconds,
  rps: spec.requests / seconds,
  latencyMs: stats(Array.from(latencies)),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
