// CLI wall times: `ve orch ps`, `ve orch status` and `ve --version` against the compiled
// hello-world, with the floor of a request to the daemon (a compiled minimal Bun.connect client
// asking GET /status) as a reference figure, all interleaved in one rotating sequence; and
// `ve orch start` / `stop` cycles.
import type { BenchConfig } from "./lib/config.ts";
import { VE } from "./lib/config.ts";
import { Daemon } from "./lib/daemon.ts";
import { type CommandSpec, benchEnv, interleaved, round, rounded, stats, timeOnce } from "./lib/measure.ts";
import type { References } from "./lib/refs.ts";
import { type Figure, type Measured, compare, figure } from "./lib/report.ts";

function wall(values: { median: number; p90: number; max?: number }, what: string, withMax = false): Measured {
  return {
    value: values.median,
    unit: "ms",
    what,
    extra: withMax && values.max !== undefined ? { p90: values.p90, max: values.max } : { p90: values.p90 },
  };
}

/** Runs in the project directory (the CLI finds the project from its working directory). */
export function benchCliStartup(config: BenchConfig, refs: References, project: Daemon): Figure[] {
  const env = benchEnv();
  const inProject = (name: string, cmd: string[]): CommandSpec => ({ name, cmd, cwd: project.dir, env });
  const specs = [
    inProject("hello", [refs.hello]),
    inProject("ps", [VE, "orch", "ps"]),
    inProject("status", [VE, "orch", "status"]),
    inProject("version", [VE, "--version"]),
    // The floor: one GET /status on the same daemon, nothing else (bench/fixtures/bare-client.ts).
    inProject("bare", [refs.bareClient, project.socket]),
  ];
  const result = interleaved(specs, config.cliRuns, config.cliWarmup);
  // The floor must really have asked this daemon: its output is the daemon's /status body.
  // Checked after the timed runs, so it gets no more warm-ups than the others.
  const probe = timeOnce(specs[4] as CommandSpec);
  const pid = (JSON.parse(probe.stdout) as { pid?: unknown }).pid;
  if (pid !== project.pid) throw new Error(`the bare client printed ${probe.stdout.slice(0, 200)}, not the status of daemon ${project.pid}`);
  const hello = result.stats.hello!;
  const what = `wall time spawn-to-exit, median of ${config.cliRuns} runs after ${config.cliWarmup} warm-ups, interleaved with the reference`;
  const reference = {
    label: "hello-world",
    ...wall(hello, `the compiled console.log("hello") (same Bun, the same compile flags), in the same rotation, median of ${hello.n}`),
  };
  const one = (id: string, label: string, name: string, target?: number, extraNotes: string[] = []): Figure => {
    const s = result.stats[name]!;
    const cpu = result.cpuStats[name]!;
    const cpuRef = result.cpuStats.hello!;
    return figure({
      id,
      label,
      measured: wall(s, what),
      reference,
      comparison: compare("ratio", s.median, hello.median),
      ...(target === undefined ? {} : { target: { op: "<=" as const, value: target } }),
      notes: [
        `p90 ratio ${(s.p90 / hello.p90).toFixed(2)}x; CPU time (user+sys) median ${cpu.median.toFixed(2)} ms vs ${cpuRef.median.toFixed(2)} ms = ${(cpu.median / cpuRef.median).toFixed(2)}x`,
        ...extraNotes,
      ],
      data: {
        stats: s,
        reference: hello,
        cpu_stats: cpu,
        reference_cpu_stats: cpuRef,
        samples: rounded(result.samples[name]),
        reference_samples: rounded(result.samples.hello),
      },
    });
  };
  // A reference figure (no target): what any compiled client pays to ask the daemon anything.
  const floorFigure = (): Figure => {
    const bare = result.stats.bare!;
    const vs = (name: string) => (result.stats[name]!.median / bare.median).toFixed(2);
    const f = one("cli.floor", "bare Bun.connect request (floor)", "bare", undefined, [
      `reference figure, no target: the compiled minimal client (one GET /status with Bun.connect, body printed); ` +
        `ve orch status is ${vs("status")}x this floor, ve orch ps ${vs("ps")}x, ve --version ${vs("version")}x`,
    ]);
    const floorRatios = Object.fromEntries(["ps", "status", "version"].map((name) => [name, round(result.stats[name]!.median / bare.median, 3)]));
    return { ...f, data: { ...(f.data as object), vs_floor: floorRatios } };
  };
  return [
    one("cli.ps", `ve orch ps (${project.units} units)`, "ps", 1.3),
    one("cli.status", "ve orch status", "status", 1.3),
    one("cli.version", "ve --version", "version", 1.2),
    floorFigure(),
  ];
}

/** `ve orch start` until it reports the daemon ready; `ve orch stop` until the socket is gone. */
export async function benchLifecycle(config: BenchConfig): Promise<Figure[]> {
  const daemon = await Daemon.start("lifecycle");
  try {
    await daemon.seedApi(config.baseUnits, config.seedConcurrency);
    await daemon.stop();
    // One untimed cycle: the first start after seeding checkpoints and warms the page cache.
    await daemon.start();
    await daemon.stop();
    const starts: number[] = [];
    const stops: number[] = [];
    for (let i = 0; i < config.lifecycleCycles; i++) {
      starts.push(await daemon.start());
      stops.push(await daemon.stop());
    }
    const s = stats(starts);
    const t = stats(stops);
    const what = `wall time over ${config.lifecycleCycles} cycles, ${config.baseUnits} units in the project`;
    return [
      figure({
        id: "lifecycle.start",
        label: "ve orch start (until ready)",
        measured: wall(s, `${what}: \`ve orch start\` spawn to exit (it exits once GET /status answers)`, true),
        data: { samples: rounded(starts) },
      }),
      figure({
        id: "lifecycle.stop",
        label: "ve orch stop (until socket gone)",
        measured: wall(t, `${what}: from spawning \`ve orch stop\` until it exited and the socket file was gone`, true),
        data: { samples: rounded(stops) },
      }),
    ];
  } finally {
    await daemon.dispose();
  }
}
