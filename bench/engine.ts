// The engine (`ve orch inject` + the `command` backend) in real git repositories:
//   - dispatch latency: from a unit becoming READY (its history entry) to its agent running
//     (the agent's own first act writes the clock), first runs and later phases apart;
//   - orchestration overhead: READY to landed per unit, one at a time, and 100 independent
//     units at max_agents 8, each against the time git itself took in the same run (a `git`
//     shim first on the daemon's PATH logs every git command's wall time);
//   - daemon CPU while 100 units wait on a blocker that never finishes.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BenchConfig, VE } from "./lib/config.ts";
import { Daemon, tempDir } from "./lib/daemon.ts";
import { benchEnv, round, stats, timeOnce, waitUntil } from "./lib/measure.ts";
import { type Figure, compare, figure } from "./lib/report.ts";

/** Git never reads the machine's or the user's configuration here. */
const GIT_ENV = {
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Bench",
  GIT_AUTHOR_EMAIL: "bench@example.invalid",
  GIT_COMMITTER_NAME: "Bench",
  GIT_COMMITTER_EMAIL: "bench@example.invalid",
};
const BASH = "/bin/bash";
const POLL_MS = 20;
/** The reference design polls once a second: a unit waits half a second on average, up to one. */
const REFERENCE_POLL_MS = 1000;

interface HistoryEntry {
  old_status: string | null;
  new_status: string;
  new_phase: string;
  reason: string;
  timestamp: string;
}

interface GitCall {
  start: number;
  end: number;
  args: string;
}

function p99(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(0.99 * sorted.length) - 1)] ?? Number.NaN;
}

function ms(n: number): number {
  return round(n, 2);
}

/** Milliseconds of wall time during which at least one of the calls ran. */
function union(calls: readonly GitCall[]): number {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  let start = 0;
  for (const c of sorted) {
    if (c.start > end) {
      if (end > start) total += end - start;
      start = c.start;
      end = c.end;
    } else end = Math.max(end, c.end);
  }
  if (end > start) total += end - start;
  return total;
}

/** The git subcommand of a logged argument list (skipping -C DIR, -c K=V and other options). */
function subcommand(args: string): string {
  const words = args.split("\x1f");
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === "-C" || w === "-c") i++;
    else if (!w.startsWith("-")) return w === "worktree" && words[i + 1] ? `worktree ${words[i + 1]}` : w;
  }
  return "?";
}

/** A project: a git repository on `main` with one commit, a daemon, an agent, optionally the git shim. */
class EngineProject {
  readonly dir: string;
  readonly scratch: string;
  readonly gitLog: string;
  readonly agentLog: string;
  readonly daemon: Daemon;
  private readonly env: Record<string, string>;

  constructor(label: string, shim: boolean) {
    this.dir = tempDir(label);
    this.scratch = tempDir(`${label}-scratch`);
    this.gitLog = join(this.scratch, "git.log");
    this.agentLog = join(this.scratch, "agent.log");
    let path = process.env.PATH ?? "/usr/bin:/bin";
    if (shim) {
      const realGit = Bun.which("git");
      if (!realGit) throw new Error("git is not on PATH");
      const bin = join(this.scratch, "bin");
      mkdirSync(bin);
      // The wall time around the real git only: bash's own start-up before the first clock
      // reading is not counted as git's (it is the shim's cost, measured apart).
      writeFileSync(
        join(bin, "git"),
        `#!${BASH}\ns=$EPOCHREALTIME\n${JSON.stringify(realGit)} "$@"\nrc=$?\ne=$EPOCHREALTIME\nIFS=$'\\x1f'\na="$*"\nprintf '%s %s %s\\n' "$s" "$e" "\${a//$'\\n'/ }" >> ${JSON.stringify(this.gitLog)}\nexit $rc\n`,
      );
      chmodSync(join(bin, "git"), 0o755);
      path = `${bin}:${path}`;
    }
    this.env = { ...GIT_ENV, PATH: path };
    const git = (...args: string[]) => {
      const r = Bun.spawnSync(["git", ...args], { cwd: this.dir, env: benchEnv(GIT_ENV), stdout: "ignore", stderr: "pipe" });
      if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} in ${this.dir}: ${r.stderr.toString().trim()}`);
    };
    git("init", "-q", "-b", "main");
    writeFileSync(join(this.dir, "README.md"), "bench\n");
    git("add", "-A");
    git("commit", "-q", "-m", "initial");
    this.daemon = new Daemon(this.dir, this.env);
  }

  ve(...args: string[]): string {
    return timeOnce({ name: `ve ${args.join(" ")}`, cmd: [VE, ...args, "--project-dir", this.dir], env: benchEnv(this.env), timeoutMs: 60_000 }).stdout;
  }

  async start(agent: { path: string; args: string[] }, maxAgents: number): Promise<void> {
    await this.daemon.start();
    this.ve("orch", "config", "backends.command.path", agent.path);
    this.ve("orch", "config", "backends.command.args", JSON.stringify(agent.args));
    this.ve("orch", "config", "max_agents", String(maxAgents));
  }

  /** The agent that writes the clock first thing (a bash builtin: no fork before the reading). */
  clockAgent(): { path: string; args: string[] } {
    return { path: BASH, args: ["-c", `echo "$EPOCHREALTIME $VE_CHUNK $VE_PHASE" >> ${JSON.stringify(this.agentLog)}`] };
  }

  async status(chunk: string): Promise<string> {
    const res = await this.daemon.get(`/work-units/${chunk}`);
    if (res.status !== 200) throw new Error(`GET /work-units/${chunk}: ${res.status} ${res.text}`);
    const body = JSON.parse(res.text) as { status?: string; work_unit?: { status: string } };
    return body.work_unit?.status ?? body.status ?? "?";
  }

  async waitDone(chunk: string, timeoutMs = 60_000): Promise<void> {
    await waitUntil(`${chunk} to land`, async () => {
      const status = await this.status(chunk);
      if (status === "NEEDS_ATTENTION") throw new Error(`${chunk} needs attention: ${this.ve("orch", "work-unit", "show", chunk)}`);
      return status === "DONE";
    }, timeoutMs, POLL_MS);
  }

  history(chunk: string): HistoryEntry[] {
    return (JSON.parse(this.ve("orch", "work-unit", "show", chunk, "--json")) as { history: HistoryEntry[] }).history;
  }

  /** Agent start times (ms since the epoch) by "chunk phase". */
  agentStarts(): Map<string, number> {
    const starts = new Map<string, number>();
    if (!existsSync(this.agentLog)) return starts;
    for (const line of readFileSync(this.agentLog, "utf8").split("\n")) {
      const [at, chunk, phase] = line.split(" ");
      if (at && chunk && phase) starts.set(`${chunk} ${phase}`, Number(at) * 1000);
    }
    return starts;
  }

  gitCalls(): GitCall[] {
    if (!existsSync(this.gitLog)) return [];
    return readFileSync(this.gitLog, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [s, e, ...rest] = line.split(" ");
        return { start: Number(s) * 1000, end: Number(e) * 1000, args: rest.join(" ") };
      });
  }

  async dispose(): Promise<void> {
    await this.daemon.dispose();
  }
}

/** A unit's READY→DONE window and each phase's READY, claim ("run … started") and agent start. */
interface UnitTrace {
  chunk: string;
  ready: number;
  done: number;
  phases: { phase: string; ready: number; claimed: number; agent: number | undefined }[];
}

function trace(chunk: string, history: HistoryEntry[], agents: Map<string, number>): UnitTrace {
  const at = (e: HistoryEntry) => Date.parse(e.timestamp);
  const phases: UnitTrace["phases"] = [];
  let lastReady: HistoryEntry | undefined;
  let firstReady: number | undefined;
  let done = Number.NaN;
  for (const e of history) {
    if (e.new_status === "READY") {
      lastReady = e;
      firstReady ??= at(e);
    } else if (e.new_status === "RUNNING" && /^run \S+ started/.test(e.reason) && lastReady) {
      phases.push({ phase: e.new_phase, ready: at(lastReady), claimed: at(e), agent: agents.get(`${chunk} ${e.new_phase}`) });
    } else if (e.new_status === "DONE") done = at(e);
  }
  return { chunk, ready: firstReady ?? Number.NaN, done, phases };
}

/** What the shim adds to one git call: `git --version` through it minus directly, medians. */
function shimCost(project: EngineProject, runs: number): number {
  const shim = join(project.scratch, "bin/git");
  const real = Bun.which("git") as string;
  const direct: number[] = [];
  const viaShim: number[] = [];
  for (let i = 0; i < runs; i++) {
    direct.push(timeOnce({ name: "git --version", cmd: [real, "--version"] }).ms);
    viaShim.push(timeOnce({ name: "shim --version", cmd: [shim, "--version"] }).ms);
  }
  return Math.max(0, stats(viaShim).median - stats(direct).median);
}

/** Git time by subcommand: "commit 4x 31.2 ms, ...", largest first. */
function bySubcommand(calls: readonly GitCall[], per = 1): string {
  const groups = new Map<string, { n: number; ms: number }>();
  for (const c of calls) {
    const key = subcommand(c.args);
    const g = groups.get(key) ?? { n: 0, ms: 0 };
    g.n++;
    g.ms += c.end - c.start;
    groups.set(key, g);
  }
  return [...groups.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([k, g]) => `${k} ${round(g.n / per, 1)}x ${ms(g.ms / per)} ms`)
    .join(", ");
}

/** /proc/<pid>/stat utime + stime, in ms (clock ticks of 10 ms on Linux's USER_HZ 100). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Time on CPU of every thread of the process, in ms, from /proc/<pid>/task/<tid>/schedstat (ns). */
function schedMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {}
  }
  return ns / 1e6;
}

export async function benchEngine(config: BenchConfig, log: (line: string) => void): Promise<Figure[]> {
  const figures: Figure[] = [];
  const units = config.quick ? 10 : 50;

  // 1. Dispatch latency: units one at a time, each blocked on its own tracked unit; finishing
  // the blocker makes it READY (history: "unblocked"), the engine runs its four phases.
  {
    const project = new EngineProject("dispatch", false);
    try {
      await project.start(project.clockAgent(), 8);
      const chunks = Array.from({ length: units }, (_, i) => `d${String(i).padStart(3, "0")}`);
      for (const chunk of chunks) {
        project.ve("orch", "work-unit", "create", `${chunk}-blocker`);
        project.ve("orch", "inject", chunk, "--blocked-by", `${chunk}-blocker`);
      }
      for (const chunk of chunks) {
        project.ve("orch", "work-unit", "status", `${chunk}-blocker`, "DONE");
        await project.waitDone(chunk);
      }
      const agents = project.agentStarts();
      const traces = chunks.map((c) => trace(c, project.history(c), agents));
      const first: number[] = [];
      const later: number[] = [];
      const claim: number[] = [];
      const prepareFirst: number[] = [];
      const prepareLater: number[] = [];
      for (const t of traces) {
        t.phases.forEach((p, i) => {
          if (p.agent === undefined) throw new Error(`no agent start recorded for ${t.chunk} ${p.phase}`);
          (i === 0 ? first : later).push(p.agent - p.ready);
          claim.push(p.claimed - p.ready);
          (i === 0 ? prepareFirst : prepareLater).push(p.agent - p.claimed);
        });
      }
      const all = [...first, ...later];
      const s = stats(all);
      const note = (name: string, xs: number[]) => `${name}: median ${ms(stats(xs).median)} ms, p99 ${ms(p99(xs))} ms (n=${xs.length})`;
      figures.push(
        figure({
          id: "engine.dispatch",
          label: `dispatch latency, READY to agent running (${all.length} dispatches)`,
          measured: { value: s.median, unit: "ms", what: `median over ${all.length} dispatches (${units} units x 4 phases, one unit at a time)`, extra: { p90: s.p90, p99: p99(all), max: s.max } },
          comparison: compare("delta", s.median, 0, "ms"),
          target: { op: "<", value: 20 },
          notes: [
            `p99 ${ms(p99(all))} ms (target < 100 ms): ${p99(all) < 100 ? "PASS" : "MISS"}; the reference, polling once a second, averages ${REFERENCE_POLL_MS / 2} ms (${ms(REFERENCE_POLL_MS / 2 / s.median)}x this median) and up to ${REFERENCE_POLL_MS} ms`,
            note("first runs (git worktree add)", first),
            note("later phases", later),
            `READY to the claim ("run ... started", the scheduler's reaction): median ${ms(stats(claim).median)} ms, p99 ${ms(p99(claim))} ms; the claim to the agent running (worktree, prompt, spawn): first runs median ${ms(stats(prepareFirst).median)} ms, later phases ${ms(stats(prepareLater).median)} ms`,
            "READY is the history entry's timestamp (the daemon's clock, ms); the agent is `bash -c 'echo $EPOCHREALTIME ...'`, so bash's start-up (~1 ms) is inside the figure",
          ],
          data: { first, later, claim, prepare_first: prepareFirst, prepare_later: prepareLater },
        }),
        figure({
          id: "engine.dispatch.p99",
          label: "dispatch latency p99",
          measured: { value: p99(all), unit: "ms", what: `p99 over ${all.length} dispatches` },
          comparison: compare("delta", p99(all), 0, "ms"),
          target: { op: "<", value: 100 },
        }),
      );
      log(`dispatch: median ${ms(s.median)} ms, p99 ${ms(p99(all))} ms over ${all.length}`);
    } finally {
      await project.dispose();
    }
  }

  // 2a. Per unit: inject to DONE (four phases and the landing), one unit at a time, with the
  // git shim; the git commands inside each unit's window are that unit's.
  const sequential = config.quick ? 5 : 20;
  {
    const project = new EngineProject("overhead", true);
    try {
      await project.start(project.clockAgent(), 8);
      const totals: number[] = [];
      const gits: number[] = [];
      const counts: number[] = [];
      const prepareGit: number[] = [];
      const prepareCalls: GitCall[] = [];
      const windows: GitCall[] = [];
      const agents = () => project.agentStarts();
      for (let i = 0; i < sequential; i++) {
        const chunk = `o${String(i).padStart(3, "0")}`;
        const t0 = Date.now();
        project.ve("orch", "inject", chunk);
        await project.waitDone(chunk);
        const t = trace(chunk, project.history(chunk), agents());
        const calls = project.gitCalls().filter((c) => c.start >= t0 && c.end <= t.done + 1);
        totals.push(t.done - t0);
        gits.push(calls.reduce((a, c) => a + c.end - c.start, 0));
        counts.push(calls.length);
        windows.push(...calls);
        for (const p of t.phases.slice(1)) {
          if (p.agent === undefined) continue;
          const agentAt = p.agent;
          const inside = calls.filter((c) => c.start >= p.claimed - 1 && c.end <= agentAt + 1);
          prepareCalls.push(...inside);
          prepareGit.push(inside.reduce((a, c) => a + c.end - c.start, 0));
        }
      }
      const shim = shimCost(project, 20);
      const total = stats(totals).median;
      const git = stats(gits).median;
      const n = stats(counts).median;
      figures.push(
        figure({
          id: "engine.unit",
          label: "one unit, inject to DONE (4 phases + landing)",
          measured: { value: total, unit: "ms", what: `median of ${sequential} units, one at a time, agent \`bash -c 'echo ...'\``, extra: { p90: stats(totals).p90, max: stats(totals).max } },
          reference: { label: "its git commands", value: git, unit: "ms", what: "sum of the wall times of the git commands inside each unit's window (the shim's log), median" },
          comparison: compare("ratio", total, git),
          notes: [
            `overhead beyond git: median ${ms(total - git)} ms per unit, ~${ms(Math.max(0, total - git - shim * n))} ms without the shim's own cost (~${ms(shim)} ms per git command outside the interval it logs, x ${n} git commands per unit)`,
            `git per unit by command: ${bySubcommand(windows, sequential)}`,
            `git inside a later phase's dispatch (the claim to the agent running): median ${ms(stats(prepareGit).median)} ms; per dispatch: ${bySubcommand(prepareCalls, prepareGit.length)}`,
          ],
          data: { totals, gits, counts, shim_ms: shim },
        }),
      );
      log(`one unit: ${ms(total)} ms inject to DONE, git ${ms(git)} ms`);
    } finally {
      await project.dispose();
    }
  }

  // 2b. 100 independent units at max_agents 8, an agent that exits at once (/bin/true).
  const many = config.quick ? 24 : 100;
  {
    const project = new EngineProject("throughput", true);
    try {
      await project.start({ path: "/bin/true", args: [] }, 8);
      const chunks = Array.from({ length: many }, (_, i) => `t${String(i).padStart(3, "0")}`);
      const t0 = Date.now();
      project.ve("orch", "inject", ...chunks);
      let landedAt = 0;
      await waitUntil(
        `${many} units to land`,
        async () => {
          const res = await project.daemon.get("/work-units");
          const list = (JSON.parse(res.text) as { work_units: { chunk: string; status: string; status_changed_at: string }[] }).work_units;
          const stuck = list.find((u) => u.status === "NEEDS_ATTENTION");
          if (stuck) throw new Error(`${stuck.chunk} needs attention: ${project.ve("orch", "work-unit", "show", stuck.chunk)}`);
          if (list.length < many || list.some((u) => u.status !== "DONE")) return false;
          landedAt = Math.max(...list.map((u) => Date.parse(u.status_changed_at)));
          return true;
        },
        300_000,
        100,
      );
      const wall = landedAt - t0;
      const calls = project.gitCalls().filter((c) => c.start >= t0 && c.end <= landedAt + 1);
      const sum = calls.reduce((a, c) => a + c.end - c.start, 0);
      const busy = union(calls);
      figures.push(
        figure({
          id: "engine.throughput",
          label: `${many} independent units, max_agents 8: inject to all landed`,
          measured: { value: wall, unit: "ms", what: `inject to the last unit DONE (its status_changed_at), agent /bin/true`, extra: { per_unit: wall / many } },
          reference: { label: "sum of its git commands", value: sum, unit: "ms", what: `${calls.length} git commands logged by the shim in the same run` },
          comparison: compare("ratio", wall, sum),
          notes: [
            `git ran during ${ms(busy)} ms of the ${ms(wall)} ms (${ms((100 * busy) / wall)}%); ${round(calls.length / many, 1)} git commands per unit, ${ms(sum / many)} ms of git per unit`,
            `git per unit by command: ${bySubcommand(calls, many)}`,
          ],
          data: { wall, git_sum: sum, git_busy: busy, git_calls: calls.length },
        }),
      );
      log(`${many} units: ${ms(wall)} ms, git sum ${ms(sum)} ms`);
    } finally {
      await project.dispose();
    }
  }

  // 3. Idle CPU: 100 units wait on a tracked unit that never finishes; an empty daemon is the
  // reference, read over the same seconds.
  const idleMs = config.quick ? 3000 : 15_000;
  {
    const waiting = new EngineProject("idle", false);
    const empty = new EngineProject("idle-empty", false);
    try {
      await waiting.start(waiting.clockAgent(), 8);
      await empty.start(empty.clockAgent(), 8);
      waiting.ve("orch", "work-unit", "create", "never");
      waiting.ve("orch", "inject", ...Array.from({ length: 100 }, (_, i) => `w${String(i).padStart(3, "0")}`), "--blocked-by", "never");
      await Bun.sleep(1000);
      const a0 = schedMs(waiting.daemon.pid);
      const b0 = schedMs(empty.daemon.pid);
      const ta0 = cpuMs(waiting.daemon.pid);
      const tb0 = cpuMs(empty.daemon.pid);
      await Bun.sleep(idleMs);
      const a = ((schedMs(waiting.daemon.pid) - a0) * 1000) / idleMs;
      const b = ((schedMs(empty.daemon.pid) - b0) * 1000) / idleMs;
      const ticksA = cpuMs(waiting.daemon.pid) - ta0;
      const ticksB = cpuMs(empty.daemon.pid) - tb0;
      figures.push(
        figure({
          id: "engine.idle_cpu",
          label: "daemon CPU, 100 units waiting on a blocker that never finishes",
          measured: { value: a, unit: "ms CPU/s", what: `time on CPU of all threads, /proc/<pid>/task/*/schedstat (ns), over ${idleMs / 1000} s` },
          reference: { label: "empty daemon, same seconds", value: b, unit: "ms CPU/s", what: "the same reading of a daemon with no units" },
          // The runtime itself ticks a little (GC, timers) in any idle daemon: what 100 waiting
          // units cost is the difference to the empty one.
          comparison: compare("delta", a, b, "ms CPU/s"),
          target: { op: "<=", value: 1 },
          notes: [
            `${ms((a * idleMs) / 1000)} ms on CPU in ${idleMs / 1000} s with 100 units waiting, ${ms((b * idleMs) / 1000)} ms empty; utime+stime (/proc/<pid>/stat, 10 ms ticks): ${ticksA} ms and ${ticksB} ms`,
            "what any idle daemon spends is its own timers (the state-directory watch), not the units",
          ],
        }),
      );
      log(`idle CPU: ${ms(a)} ms/s (empty daemon ${ms(b)} ms/s)`);
    } finally {
      await waiting.dispose();
      await empty.dispose();
    }
  }
  return figures;
}
