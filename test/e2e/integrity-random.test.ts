// Issue 24, "Must show": a short randomized run of bench/integrity (see its lib.ts). The daemon
// and its whole process group are killed with SIGKILL at random moments while units run and
// land, and a scripted person commits and switches branches in the base checkout; then: no file
// lost on main or in the checkout, no DONE unit without its merge on main, no process of a run
// left after the final stop, no lock left in ve's paths, git fsck clean. The seed is printed
// (VE_INTEGRITY_SEED=N repeats the schedule); the longer run is `bun bench/integrity/run.ts`.
import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { VE, World, runIntegrity } from "../../bench/integrity/lib.ts";

const RUN_TIMEOUT_MS = 90_000;
const seed = Number(process.env.VE_INTEGRITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const worlds: World[] = [];
afterAll(async () => {
  for (const world of worlds) await world.dispose();
});

test(
  `randomized kills and a person at work lose nothing and leave nothing behind (seed ${seed})`,
  async () => {
    if (!existsSync(VE)) throw new Error(`${VE} does not exist: build it first (bun run build.ts)`);
    const lines: string[] = [];
    const world = new World({
      seed,
      rounds: 2,
      unitsPerRound: 3,
      killsPerRound: 2,
      maxAgents: 3,
      settleTimeoutMs: 25_000,
      log: (line) => {
        lines.push(line);
        console.log(line);
      },
    });
    worlds.push(world);
    try {
      const result = await runIntegrity(world);
      expect({ seed, failed: result.checks.filter((c) => c.failures > 0).map((c) => `${c.name}: ${c.line}`) }).toEqual({ seed, failed: [] });
    } finally {
      await world.dispose();
    }
  },
  RUN_TIMEOUT_MS,
);
