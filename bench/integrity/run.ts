// The longer randomized landing-integrity run (issue 24, "Must show"): see lib.ts.
//   bun bench/integrity/run.ts [--rounds N] [--units N] [--kills N] [--max-agents N] [--seed S] [--keep]
// Exit 1 when a check fails. Build dist/ve first (bun run build.ts).
import { type IntegrityOptions, World, runIntegrity } from "./lib.ts";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value)) throw new Error(`--${name} wants a number`);
  return value;
}

const options: IntegrityOptions = {
  seed: flag("seed", Number(process.env.VE_INTEGRITY_SEED ?? Math.floor(Math.random() * 2 ** 31))),
  rounds: flag("rounds", 5),
  unitsPerRound: flag("units", 6),
  killsPerRound: flag("kills", 2),
  maxAgents: flag("max-agents", 3),
  settleTimeoutMs: flag("settle-s", 120) * 1000,
  log: (line) => process.stdout.write(`${line}\n`),
};
const world = new World(options);
let disposing = false;
const dispose = async () => {
  if (disposing) return;
  disposing = true;
  if (!process.argv.includes("--keep")) await world.dispose();
  else process.stdout.write(`kept ${world.root} (the daemon may still run: ve orch stop --project-dir ${world.repo})\n`);
};
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void dispose().finally(() => process.exit(130)));
let ok = false;
try {
  ok = (await runIntegrity(world)).ok;
} catch (error) {
  process.stdout.write(`integrity: the run broke off (seed ${options.seed}): ${(error as Error).stack}\n`);
} finally {
  await dispose();
}
process.exit(ok ? 0 : 1);
