// The randomized landing-integrity run of issue 24 ("Must show"): the compiled dist/ve in a
// temporary real git repository, the `command` backend running a bash agent that writes and
// edits files, sometimes commits itself and sometimes leaves background children; meanwhile
// the daemon (or its whole process group) is killed with SIGKILL at random moments and a
// scripted person commits in the base checkout and switches branches. After each round the
// daemon is started again, the person goes back to the base branch, the units settle, and the
// checks run. The seed fixes every choice (plans, delays, the person's actions, the kills);
// the OS's timing is not fixed, so a seed reproduces the schedule, not the exact interleaving.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export const VE = resolve(import.meta.dir, "../../dist/ve");
const PHASES = ["GOAL", "PLAN", "IMPLEMENT", "COMPLETE"] as const;
const CHILD_SLEEP_S = 600;
const COMMAND_TIMEOUT_MS = 60_000;
const SETTLE_POLL_MS = 100;

export interface IntegrityOptions {
  seed: number;
  rounds: number;
  unitsPerRound: number;
  killsPerRound: number;
  maxAgents: number;
  settleTimeoutMs: number;
  log: (line: string) => void;
}

export interface Check {
  name: string;
  failures: number;
  line: string;
}

export interface IntegrityResult {
  seed: number;
  checks: Check[];
  lines: string[];
  ok: boolean;
}

/** mulberry32: small, seedable, good enough to pick delays and actions. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function sh(cmd: string[], cwd: string, env: Record<string, string>, timeoutMs = COMMAND_TIMEOUT_MS): Promise<Out> {
  const child = Bun.spawn(cmd, { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

function allPids(): number[] {
  try {
    return readdirSync("/proc").filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return [];
  }
}

function environ(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
  } catch {
    return [];
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return "";
  }
}

function pgidOf(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return undefined;
    return Number(fields[2]);
  } catch {
    return undefined;
  }
}

/** Processes of a run of this project: VE_RUN_ID= in their environment, and this project's VE_PROJECT_DIR. */
export function runLeftovers(repo: string): { pid: number; cmd: string; run: string }[] {
  const found: { pid: number; cmd: string; run: string }[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid || pgidOf(pid) === undefined) continue;
    const env = environ(pid);
    const run = env.find((e) => e.startsWith("VE_RUN_ID="));
    if (run && env.includes(`VE_PROJECT_DIR=${repo}`)) found.push({ pid, cmd: cmdline(pid), run: run.slice(10) });
  }
  return found;
}

/** Every process this world started or that works inside it (agents, their children, git). */
function worldProcesses(root: string, repo: string): number[] {
  const pids = new Set<number>();
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    if (environ(pid).includes(`VE_PROJECT_DIR=${repo}`)) pids.add(pid);
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, "");
      if (cwd === root || cwd.startsWith(`${root}/`)) pids.add(pid);
    } catch {}
  }
  return [...pids];
}

function walkLocks(dir: string, out: string[]): void {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) walkLocks(path, out);
    else if (e.name.endsWith(".lock")) out.push(path);
  }
}

type Expected = Map<string, string | null>;

interface UnitPlan {
  chunk: string;
  /** What the unit's branch holds once all four phases ran: content, or null for a file it removed. */
  files: Expected;
  spawns: string[];
  commits: string[];
}

export class World {
  readonly root: string;
  readonly repo: string;
  readonly scratch: string;
  readonly env: Record<string, string>;
  readonly plans = new Map<string, UnitPlan>();
  /** Files of the base that must stay: the initial project, and what the person committed on it. */
  readonly baseFiles: Expected = new Map();
  /** The person's ignored, never committed work in the checkout. */
  readonly ignored = new Map<string, string>();
  readonly stats = { daemonKills: 0, groupKills: 0, personCommits: 0, personSwitches: 0, personMerges: 0, personGitFailures: 0, retries: 0 };
  private daemonPid = 0;

  constructor(readonly options: IntegrityOptions) {
    this.root = realpathSync(mkdtempSync(join(tmpdir(), "ve-integrity-")));
    this.repo = join(this.root, "repo");
    this.scratch = join(this.root, "scratch");
    mkdirSync(join(this.root, "home"));
    mkdirSync(this.scratch);
    mkdirSync(this.repo);
    const base: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", VE_PROJECT_DIR: undefined };
    this.env = {
      ...(Object.fromEntries(Object.entries(base).filter((e) => e[1] !== undefined)) as Record<string, string>),
      HOME: join(this.root, "home"),
      XDG_CONFIG_HOME: join(this.root, "home", ".config"),
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Person",
      GIT_AUTHOR_EMAIL: "person@example.invalid",
      GIT_COMMITTER_NAME: "Person",
      GIT_COMMITTER_EMAIL: "person@example.invalid",
    };
  }

  git(...args: string[]): Promise<Out> {
    return sh(["git", ...args], this.repo, this.env);
  }

  async mustGit(...args: string[]): Promise<string> {
    const r = await this.git(...args);
    if (r.code !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }

  ve(...args: string[]): Promise<Out> {
    return sh([VE, ...args, "--project-dir", this.repo], this.repo, this.env);
  }

  async setup(): Promise<void> {
    await this.mustGit("init", "-q", "-b", "main");
    const files: Record<string, string> = { ".gitignore": ".env\nlocal/\n", "README.md": "integrity\n" };
    for (let i = 0; i < 30; i++) files[`src/f${i}.txt`] = `file ${i}\n`.repeat(1 + (i % 5));
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(this.repo, path)), { recursive: true });
      writeFileSync(join(this.repo, path), content);
      this.baseFiles.set(path, content);
    }
    await this.mustGit("add", "-A");
    await this.mustGit("commit", "-q", "-m", "initial");
    this.writeIgnored(".env", "SECRET=person\n");
    this.writeIgnored("local/notes.txt", "notes\n");
    const plans = join(this.scratch, "plans");
    mkdirSync(plans);
    const agent = join(this.scratch, "agent.sh");
    writeFileSync(
      agent,
      `#!/bin/bash
P=${JSON.stringify(plans)}/"$VE_CHUNK/$VE_PHASE"
[ -d "$P" ] || exit 0
if [ -f "$P/remove" ]; then while IFS= read -r f; do rm -f -- "$f"; done < "$P/remove"; fi
[ -d "$P/files" ] && cp -R "$P/files/." .
case "$(cat "$P/spawn" 2>/dev/null)" in
  group) sleep ${CHILD_SLEEP_S} >/dev/null 2>&1 </dev/null & ;;
  noterm) ( trap '' TERM; exec sleep ${CHILD_SLEEP_S} ) >/dev/null 2>&1 </dev/null & ;;
  setsid) setsid sleep ${CHILD_SLEEP_S} >/dev/null 2>&1 </dev/null & ;;
esac
[ -f "$P/sleep" ] && sleep "$(cat "$P/sleep")"
if [ -f "$P/commit" ]; then git add -A && git -c user.name=agent -c user.email=agent@example.invalid commit -q --no-verify -m "$VE_CHUNK: the agent's own $VE_PHASE commit"; fi
echo "$VE_CHUNK $VE_PHASE done"
exit 0
`,
    );
    chmodSync(agent, 0o755);
    await this.startDaemon();
    for (const [k, v] of Object.entries({
      "backends.command.path": agent,
      max_agents: String(this.options.maxAgents),
      silence_timeout_s: "60",
      backoff_base_s: "1",
      backoff_max_s: "2",
    })) {
      const r = await this.ve("orch", "config", k, v);
      if (r.code !== 0) throw new Error(`config ${k}: ${r.stderr}`);
    }
  }

  writeIgnored(path: string, content: string): void {
    mkdirSync(dirname(join(this.repo, path)), { recursive: true });
    writeFileSync(join(this.repo, path), content);
    this.ignored.set(path, content);
  }

  /** Writes the unit's plan (the files each phase writes, removes, and what else it does). */
  plan(chunk: string, random: () => number): UnitPlan {
    const files: Expected = new Map();
    const spawns: string[] = [];
    const commits: string[] = [];
    const text = (path: string, phase: string) => `${chunk} ${phase} ${path} ${Math.floor(random() * 1e9).toString(16)}\n`.repeat(1 + Math.floor(random() * 4));
    for (const phase of PHASES) {
      const dir = join(this.scratch, "plans", chunk, phase);
      mkdirSync(join(dir, "files"), { recursive: true });
      const write = (path: string) => {
        const content = text(path, phase);
        mkdirSync(dirname(join(dir, "files", path)), { recursive: true });
        writeFileSync(join(dir, "files", path), content);
        files.set(path, content);
      };
      const u = `u/${chunk}`;
      if (phase === "GOAL") {
        write(`${u}/goal.txt`);
        write(`${u}/tmp.txt`);
      } else if (phase === "PLAN") write(`${u}/plan.txt`);
      else if (phase === "IMPLEMENT") {
        const n = 1 + Math.floor(random() * 4);
        for (let i = 0; i < n; i++) write(`${u}/impl-${i}.txt`);
        if (random() < 0.5) write(`${u}/deep/a/b.txt`);
        write(`${u}/goal.txt`);
      } else {
        writeFileSync(join(dir, "remove"), `${u}/tmp.txt\n`);
        files.set(`${u}/tmp.txt`, null);
        write(`${u}/done.txt`);
      }
      const sleepMs = random() < 0.2 ? 800 + Math.floor(random() * 1200) : Math.floor(random() * 400);
      writeFileSync(join(dir, "sleep"), (sleepMs / 1000).toFixed(3));
      if (random() < 0.2) {
        writeFileSync(join(dir, "commit"), "");
        commits.push(phase);
      }
      if (random() < 0.12) {
        const kind = (["group", "noterm", "setsid"] as const)[Math.floor(random() * 3)] as string;
        writeFileSync(join(dir, "spawn"), kind);
        spawns.push(`${phase}:${kind}`);
      }
    }
    const plan = { chunk, files, spawns, commits };
    this.plans.set(chunk, plan);
    return plan;
  }

  async startDaemon(): Promise<void> {
    const r = await this.ve("orch", "start", "--json");
    if (r.code !== 0) throw new Error(`ve orch start: exit ${r.code}: ${r.stdout} ${r.stderr}`);
    this.daemonPid = (JSON.parse(r.stdout) as { daemon: { pid: number } }).daemon.pid;
  }

  /** SIGKILL of the daemon, or of its whole process group (never ours). */
  kill(group: boolean): void {
    const pid = this.daemonPid;
    if (!pid || !cmdline(pid).includes("__daemon")) return;
    const pgid = pgidOf(pid);
    const ours = pgidOf(process.pid);
    try {
      if (group && pgid !== undefined && pgid > 1 && pgid !== ours) {
        process.kill(-pgid, "SIGKILL");
        this.stats.groupKills++;
      } else {
        process.kill(pid, "SIGKILL");
        this.stats.daemonKills++;
      }
    } catch {}
    this.daemonPid = 0;
  }

  async units(): Promise<{ chunk: string; status: string; attention: { kind: string; reason: string } | null }[]> {
    const r = await this.ve("orch", "ps", "--json");
    if (r.code !== 0) throw new Error(`ps: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { work_units: { chunk: string; status: string; attention: { kind: string; reason: string } | null }[] }).work_units;
  }

  /** Waits until every unit is DONE or NEEDS_ATTENTION; returns the ones that are not. */
  async settle(): Promise<string[]> {
    const deadline = Date.now() + this.options.settleTimeoutMs;
    for (;;) {
      const pending = (await this.units()).filter((u) => u.status !== "DONE" && u.status !== "NEEDS_ATTENTION").map((u) => `${u.chunk}:${u.status}`);
      if (pending.length === 0 || Date.now() > deadline) return pending;
      await Bun.sleep(SETTLE_POLL_MS);
    }
  }

  async dispose(): Promise<void> {
    try {
      await sh([VE, "orch", "stop", "--project-dir", this.repo], this.repo, this.env, 30_000);
    } catch {}
    if (this.daemonPid && cmdline(this.daemonPid).includes("__daemon")) this.kill(false);
    for (let i = 0; i < 50; i++) {
      const left = worldProcesses(this.root, this.repo);
      if (left.length === 0) break;
      for (const pid of left) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      await Bun.sleep(50);
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The person in the base checkout: commits new files, edits with `commit -am`, branches out and back. */
class Person {
  private branch = "main";
  private side = 0;
  private n = 0;
  private sideFiles = new Map<string, string>();
  /** Files written and not yet known committed. */
  private pending = new Map<string, string>();

  constructor(
    private readonly world: World,
    private readonly random: () => number,
  ) {}

  private write(path: string, content: string): void {
    mkdirSync(dirname(join(this.world.repo, path)), { recursive: true });
    writeFileSync(join(this.world.repo, path), content);
    this.pending.set(path, content);
  }

  /** After a commit that git reported made: what of the pending work HEAD now holds. */
  private async committed(): Promise<void> {
    for (const [path, content] of [...this.pending]) {
      const shown = await this.world.git("show", `HEAD:${path}`);
      if (shown.code === 0 && shown.stdout === content) {
        this.pending.delete(path);
        if (this.branch === "main") this.world.baseFiles.set(path, content);
        else this.sideFiles.set(path, content);
      }
    }
    this.world.stats.personCommits++;
  }

  private failed(): void {
    this.world.stats.personGitFailures++;
  }

  async act(): Promise<void> {
    const w = this.world;
    const x = this.random();
    if (x < 0.35) {
      const path = this.branch === "main" ? `person/p${this.n++}.txt` : `person/side${this.side}-${this.n++}.txt`;
      this.write(path, `person ${path} ${Math.floor(this.random() * 1e9)}\n`);
      const add = await w.git("add", "--", path);
      if (add.code !== 0) return this.failed();
      const c = await w.git("commit", "-q", "-m", `person: ${path}`);
      if (c.code === 0) await this.committed();
      else this.failed();
    } else if (x < 0.5 && this.branch === "main") {
      const mine = [...w.baseFiles.keys()].filter((p) => p.startsWith("person/p"));
      const path = mine[Math.floor(this.random() * mine.length)];
      if (!path) return;
      this.write(path, `person edit ${path} ${Math.floor(this.random() * 1e9)}\n`);
      const c = await w.git("commit", "-q", "-a", "-m", `person: edit ${path}`);
      if (c.code === 0) await this.committed();
      else this.failed();
    } else if (x < 0.68 && this.branch === "main") {
      this.side++;
      const c = await w.git("checkout", "-q", "-b", `side-${this.side}`);
      if (c.code === 0) {
        this.branch = `side-${this.side}`;
        this.sideFiles.clear();
        w.stats.personSwitches++;
      } else this.failed();
    } else if (x < 0.86 && this.branch !== "main") {
      await this.backToMain(this.random() < 0.5);
    } else if (x < 0.93) {
      w.writeIgnored(".env", `SECRET=${Math.floor(this.random() * 1e9)}\n`);
    }
  }

  private async backToMain(merge: boolean): Promise<boolean> {
    const w = this.world;
    const side = this.branch;
    const c = await w.git("checkout", "-q", "main");
    if (c.code !== 0) {
      this.failed();
      return false;
    }
    this.branch = "main";
    w.stats.personSwitches++;
    if (merge && this.sideFiles.size > 0) {
      const m = await w.git("merge", "-q", "--no-ff", "--no-edit", side);
      if (m.code === 0) {
        for (const [p, v] of this.sideFiles) w.baseFiles.set(p, v);
        w.stats.personMerges++;
      } else {
        this.failed();
        await w.git("merge", "--abort");
      }
    }
    this.sideFiles.clear();
    return true;
  }

  /** Back on main, with the person's own pending files committed. */
  async finish(): Promise<void> {
    for (let i = 0; i < 20 && this.branch !== "main"; i++) if (!(await this.backToMain(true))) await Bun.sleep(100);
    for (let i = 0; i < 20 && this.pending.size > 0; i++) {
      const paths = [...this.pending.keys()];
      const add = await this.world.git("add", "--", ...paths);
      const c = add.code === 0 ? await this.world.git("commit", "-q", "-m", "person: finish", "--", ...paths) : add;
      if (c.code === 0) await this.committed();
      else {
        this.failed();
        await Bun.sleep(100);
      }
    }
  }
}

type UnitRow = Awaited<ReturnType<World["units"]>>[number];

async function checks(world: World, units: UnitRow[], final: boolean): Promise<{ checks: Check[]; info: string[] }> {
  const done = units.filter((u) => u.status === "DONE").map((u) => u.chunk);
  const attention = units.filter((u) => u.status === "NEEDS_ATTENTION");
  // Everything that must be on the base: the initial files, the person's commits, each landed unit's files.
  const expected: Expected = new Map(world.baseFiles);
  for (const chunk of done) for (const [p, v] of world.plans.get(chunk)?.files ?? []) expected.set(p, v);
  const ls = await world.git("ls-tree", "-r", "-z", "--name-only", "main");
  const onBase = new Set(ls.stdout.split("\0").filter(Boolean));
  const baseContent = async (path: string) => (onBase.has(path) ? (await world.git("show", `main:${path}`)).stdout : null);
  const lostBase: string[] = [];
  for (const [path, content] of expected) if ((await baseContent(path)) !== content) lostBase.push(path);
  const mustExist = [...expected.values()].filter((v) => v !== null).length;

  const lostCheckout: string[] = [];
  for (const [path, content] of expected) {
    const full = join(world.repo, path);
    const there = existsSync(full) ? readFileSync(full, "utf8") : null;
    if (there !== content) lostCheckout.push(path);
  }
  const lostIgnored = [...world.ignored].filter(([p, v]) => !existsSync(join(world.repo, p)) || readFileSync(join(world.repo, p), "utf8") !== v).map(([p]) => p);
  const head = (await world.git("symbolic-ref", "-q", "--short", "HEAD")).stdout.trim();
  const status = (await world.git("status", "--porcelain=v1", "--untracked-files=all")).stdout.split("\n").filter(Boolean);

  const log = (await world.git("log", "main", "--format=%s%x1f%(trailers:key=Ve-Chunk,valueonly,separator=%x1e)%x1d")).stdout;
  const named = new Set<string>();
  for (const entry of log.split("\x1d")) {
    const [subject, trailers] = entry.trim().split("\x1f");
    const m = /^Land (\S+) \(ve\)$/.exec(subject ?? "");
    if (m?.[1]) named.add(m[1]);
    for (const t of (trailers ?? "").split("\x1e")) if (t.trim()) named.add(t.trim());
  }
  const notOnBase: string[] = [];
  for (const chunk of done) {
    const files = world.plans.get(chunk)?.files ?? new Map();
    let ok = named.has(chunk);
    for (const [p, v] of files) if ((await baseContent(p)) !== v) ok = false;
    if (!ok) notOnBase.push(chunk);
  }

  const git = join(world.repo, ".git");
  const locks: string[] = [];
  walkLocks(join(git, "worktrees"), locks);
  walkLocks(join(git, "refs", "heads", "ve"), locks);
  walkLocks(join(world.repo, ".ve", "worktrees"), locks);
  const userLocks: string[] = [];
  walkLocks(git, userLocks);
  const userOnly = userLocks.filter((l) => !locks.includes(l));
  const fsck = await world.git("fsck", "--no-dangling");
  const fsckText = `${fsck.stdout}${fsck.stderr}`.trim();

  const rel = (p: string) => p.replace(`${world.repo}/`, "");
  const list = (xs: string[]) => (xs.length ? ` [${xs.slice(0, 6).map(rel).join(", ")}${xs.length > 6 ? ", ..." : ""}]` : "");
  const out: Check[] = [
    { name: "files-lost-base", failures: lostBase.length, line: `${lostBase.length} of ${expected.size} paths wrong on main (${mustExist} must exist: initial ${30 + 2}, person's, ${done.length} landed units')${list(lostBase)}` },
    {
      name: "files-lost-checkout",
      failures: lostCheckout.length + lostIgnored.length + status.length + (head === "main" ? 0 : 1),
      line: `${lostCheckout.length} of ${expected.size} paths wrong in the checkout${list(lostCheckout)}, ${lostIgnored.length} of ${world.ignored.size} ignored files changed${list(lostIgnored)}, ${status.length} changes the person did not make${list(status)}, HEAD ${head || "detached"}`,
    },
    { name: "done-not-on-base", failures: notOnBase.length, line: `${notOnBase.length} of ${done.length} DONE units without their merge on main${list(notOnBase)}` },
    { name: "locks-left", failures: locks.length, line: `${locks.length} in ve's paths${list(locks)} (the user's part of .git: ${userOnly.length}${list(userOnly)}, reported, not counted)` },
    { name: "git-fsck", failures: fsck.code === 0 && fsckText === "" ? 0 : 1, line: fsck.code === 0 && fsckText === "" ? "clean" : `exit ${fsck.code}: ${fsckText.split("\n").slice(0, 4).join(" | ")}` },
  ];
  if (final) {
    const left = runLeftovers(world.repo);
    out.push({ name: "processes-left", failures: left.length, line: `${left.length} processes of this project's runs after the final stop${list(left.map((p) => `${p.pid} ${p.cmd} (run ${p.run})`))}` });
  }
  const kinds = new Map<string, number>();
  for (const u of attention) kinds.set(u.attention?.kind ?? "?", (kinds.get(u.attention?.kind ?? "?") ?? 0) + 1);
  const info = [
    `units: ${units.length} (DONE ${done.length}, NEEDS_ATTENTION ${attention.length}${kinds.size ? `: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(", ")}` : ""})`,
    ...attention.map((u) => `  attention ${u.chunk} ${u.attention?.kind}: ${(u.attention?.reason ?? "").split("\n")[0]?.slice(0, 240)}`),
  ];
  return { checks: out, info };
}

/** The whole run; the caller owns `world` (and disposes of it, also on a throw). */
export async function runIntegrity(world: World): Promise<IntegrityResult> {
  const o = world.options;
  const say = o.log;
  say(`integrity: seed ${o.seed} rounds ${o.rounds} units/round ${o.unitsPerRound} kills/round ${o.killsPerRound} max_agents ${o.maxAgents} repo ${world.repo}`);
  const plans = rng(o.seed);
  const personRandom = rng(o.seed ^ 0x9e3779b9);
  const killRandom = rng(o.seed ^ 0x85ebca6b);
  await world.setup();
  const person = new Person(world, personRandom);
  let last: Check[] = [];
  const lines: string[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const chunks: string[] = [];
    for (let i = 1; i <= o.unitsPerRound; i++) {
      const chunk = `r${round}u${i}`;
      chunks.push(chunk);
      const p = world.plan(chunk, plans);
      if (p.spawns.length || p.commits.length) say(`  plan ${chunk}: children ${p.spawns.join(",") || "-"}, own commits ${p.commits.join(",") || "-"}`);
    }
    const inject = await world.ve("orch", "inject", ...chunks, "--base", "main", "--goal", `integrity round ${round}`);
    if (inject.code !== 0) throw new Error(`inject: ${inject.stderr}`);
    let active = true;
    const personLoop = (async () => {
      while (active) {
        await person.act();
        await Bun.sleep(20 + Math.floor(personRandom() * 250));
      }
    })();
    const kills: string[] = [];
    for (let k = 0; k < o.killsPerRound; k++) {
      await Bun.sleep(150 + Math.floor(killRandom() * 1500));
      const group = killRandom() < 0.5;
      world.kill(group);
      kills.push(group ? "group" : "daemon");
      await Bun.sleep(Math.floor(killRandom() * 400));
      await world.startDaemon();
    }
    // Let the units run and land with the person still at work for a little longer.
    await Bun.sleep(300 + Math.floor(killRandom() * 700));
    active = false;
    await personLoop;
    await person.finish();
    let pending = await world.settle();
    const merge = (await world.units()).filter((u) => u.status === "NEEDS_ATTENTION" && u.attention?.kind === "merge");
    if (merge.length > 0) {
      // What a person does after "commit or stash, then retry": the checkout is clean now.
      for (const u of merge) await world.ve("orch", "retry", u.chunk);
      world.stats.retries += merge.length;
      pending = await world.settle();
    }
    const final = round === o.rounds;
    // The units' states are read before the final stop: ps needs the daemon.
    const rows = await world.units();
    if (final) await world.ve("orch", "stop");
    const result = await checks(world, rows, final);
    last = result.checks;
    say(`round ${round}: kills ${kills.join(",") || "-"}; person commits ${world.stats.personCommits}, switches ${world.stats.personSwitches}, merges ${world.stats.personMerges}, failed git ${world.stats.personGitFailures}; merge retries ${world.stats.retries}; not settled ${pending.length}${pending.length ? ` [${pending.join(", ")}]` : ""}`);
    for (const line of result.info) say(`  ${line}`);
    for (const c of result.checks) say(`  check ${c.name}: ${c.line} ${c.failures === 0 ? "OK" : "FAIL"}`);
  }
  const s = world.stats;
  lines.push(`integrity seed ${o.seed}: ${o.rounds} rounds, ${o.rounds * o.unitsPerRound} units, kills ${s.daemonKills + s.groupKills} (daemon ${s.daemonKills}, group ${s.groupKills}), person commits ${s.personCommits}, switches ${s.personSwitches}, merges ${s.personMerges}`);
  for (const c of last) lines.push(`${c.name}: ${c.failures === 0 ? "OK  " : "FAIL"} ${c.line}`);
  const failed = last.filter((c) => c.failures > 0).map((c) => c.name);
  lines.push(`verdict: ${failed.length === 0 ? "PASS" : `FAIL (${failed.join(", ")})`} (seed ${o.seed}; VE_INTEGRITY_SEED=${o.seed} repeats the schedule)`);
  for (const line of lines) say(line);
  return { seed: o.seed, checks: last, lines, ok: failed.length === 0 };
}
