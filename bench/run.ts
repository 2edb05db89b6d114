// The benchmark harness: `npm run bench` (builds dist/ve, then runs this).
// Builds its references, starts every daemon it needs in temporary projects, measures, stops
// everything again, prints a table and writes bench/results/latest.json.
//
//   VE_BENCH_QUICK=1        smaller counts, for trying the harness out (not the spec's figures)
//   VE_BENCH_ONLY=cli,api   only these sections (size, cli, lifecycle, api, scale, memory, engine, events)
//   VE_BENCH_SEED=sqlite    seed the scale projects with the bun:sqlite shortcut, not the API
//   VE_BENCH_STRICT=1       exit 1 when a target is missed (by default only errors fail)
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join, relative } from "node:path";
import { benchGet, benchPost } from "./api.ts";
import { benchCliStartup, benchLifecycle } from "./cli.ts";
import { benchEngine } from "./engine.ts";
import { benchEvents } from "./events.ts";
import { cleanupAll, installCleanupHandlers } from "./lib/cleanup.ts";
import { type BenchConfig, REPO, type Section, VE, loadConfig, wants } from "./lib/config.ts";
import { Daemon } from "./lib/daemon.ts";
import { unitName } from "./lib/load.ts";
import { round } from "./lib/measure.ts";
import { buildReferences } from "./lib/refs.ts";
import { type Figure, errorFigure, renderNotes, renderTable } from "./lib/report.ts";
import { benchMemory } from "./memory.ts";
import { type SeedRecord, benchScale } from "./scale.ts";
import { benchSize } from "./size.ts";

const RESULTS = join(REPO, "bench/results");
const began = performance.now();

function log(line: string): void {
  process.stderr.write(`bench [${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
}

function git(...args: string[]): string {
  const r = Bun.spawnSync({ cmd: ["git", ...args], cwd: REPO, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : "";
}

/** A work unit's JSON, for the bare server when no daemon is at hand to give a real one. */
function representativeBody(): string {
  const at = new Date().toISOString();
  return JSON.stringify({ chunk: unitName(0), phase: "GOAL", status: "READY", blocked_by: [], worktree: null, created_at: at, updated_at: at });
}

async function main(): Promise<number> {
  installCleanupHandlers();
  const config: BenchConfig = loadConfig();
  if (!existsSync(VE)) throw new Error(`${VE} is missing: build it first (\`bun run build.ts\`, or run \`npm run bench\`)`);
  const veVersion = Bun.spawnSync({ cmd: [VE, "--version"], stdout: "pipe" }).stdout.toString().trim();
  const startLoad = loadavg();
  log(`${config.quick ? "QUICK mode (VE_BENCH_QUICK=1): reduced counts" : "full run"}; ve ${veVersion}, bun ${Bun.version}, ${cpus().length} CPUs, load ${startLoad.map((l) => l.toFixed(2)).join(" ")}`);

  const figures: Figure[] = [];
  let seeding: SeedRecord[] = [];
  const section = async (name: Section, label: string, run: () => Figure[] | Promise<Figure[]>) => {
    if (!wants(config, name)) return;
    log(`${label} ...`);
    const t = performance.now();
    try {
      figures.push(...(await run()));
    } catch (error) {
      log(`${label} FAILED: ${(error as Error).stack ?? error}`);
      figures.push(errorFigure(name, label, error));
    }
    log(`${label} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };

  try {
    log("building the references (hello-world, bare server, bare client, Elysia + bun:sqlite server) ...");
    const refs = await buildReferences();

    await section("size", "binary size", () => benchSize(refs));

    let base: Daemon | undefined;
    let body = representativeBody();
    if (wants(config, "cli") || wants(config, "api") || wants(config, "scale")) {
      base = await Daemon.start("base");
      await base.seedApi(config.baseUnits, config.seedConcurrency);
      const unit = await base.get(`/work-units/${unitName(0)}`);
      if (unit.status === 200) body = unit.text;
      log(`base project with ${base.units} units at ${base.dir} (daemon pid ${base.pid})`);
    }
    const project = base as Daemon;

    await section("cli", "CLI start-up vs hello-world", () => benchCliStartup(config, refs, project));
    await section("lifecycle", "start/stop cycles", () => benchLifecycle(config));
    await section("api", "GET rates vs bare Bun.serve", () => benchGet(config, refs, project));
    await section("api", "POST rates vs raw bun:sqlite", () => benchPost(config));
    await section("scale", "ps --json scaling", async () => {
      const result = await benchScale(config, project, log);
      seeding = result.seeding;
      return result.figures;
    });
    await base?.dispose();
    await section("memory", "daemon memory", () => benchMemory(config, refs, body));
    await section("engine", "the engine: dispatch, overhead, idle CPU", () => benchEngine(config, log));
    await section("events", "GET /events: change -> event latency", () => benchEvents(config, log));
  } finally {
    log("stopping everything the harness started ...");
    await cleanupAll();
  }

  const endLoad = loadavg();
  const seconds = (performance.now() - began) / 1000;
  const counts = { PASS: 0, MISS: 0, INFO: 0, ERROR: 0 };
  for (const f of figures) counts[f.verdict]++;

  const result = {
    schema: 1,
    finished_at: new Date().toISOString(),
    duration_seconds: round(seconds, 1),
    mode: config.quick ? "quick" : "full",
    ve: { version: veVersion, binary: relative(REPO, VE), commit: git("rev-parse", "HEAD"), dirty: git("status", "--porcelain", "--", "src", "sql", "build.ts", "package.json") !== "" },
    machine: {
      bun: Bun.version,
      kernel: release(),
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? "",
      memory_gb: round(totalmem() / 1e9, 1),
      loadavg_start: startLoad.map((l) => round(l)),
      loadavg_end: endLoad.map((l) => round(l)),
    },
    config: { ...config, only: config.only ? [...config.only] : null },
    seeding,
    verdicts: counts,
    figures,
  };
  mkdirSync(RESULTS, { recursive: true });
  const out = join(RESULTS, "latest.json");
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);

  const print = (text: string) => process.stdout.write(`${text}\n`);
  print("");
  print(`ve ${veVersion} benchmarks (${result.mode}${config.quick ? ": reduced counts, not the spec's sample sizes" : ""}), ${seconds.toFixed(0)} s, load average ${startLoad[0]?.toFixed(2)} -> ${endLoad[0]?.toFixed(2)} on ${cpus().length} CPUs`);
  print("");
  print(renderTable(figures));
  print("");
  if (seeding.length) {
    print(`seeding: ${seeding.map((s) => `${s.units} units via ${s.method} in ${s.seconds} s (${s.per_second}/s)`).join("; ")}`);
  }
  const notes = renderNotes(figures, process.env.VE_BENCH_VERBOSE === "1");
  if (notes) print(`notes:\n${notes}`);
  print(`PASS ${counts.PASS}, MISS ${counts.MISS}, INFO ${counts.INFO}, ERROR ${counts.ERROR}; details in ${relative(process.cwd(), out)}`);
  if (counts.ERROR > 0) return 1;
  if (counts.MISS > 0 && process.env.VE_BENCH_STRICT === "1") return 1;
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  log(`failed: ${(error as Error).stack ?? error}`);
  await cleanupAll();
  process.exitCode = 1;
}
