// The references the harness builds and runs itself in every run: a compiled hello-world, a
// compiled bare Bun.serve on a Unix socket, raw bun:sqlite inserts, and two floors: a compiled
// minimal Bun.connect client (the least a CLI request can cost) and a compiled minimal Elysia +
// bun:sqlite server (the least a server on the daemon's stack can weigh).
import { lstatSync } from "node:fs";
import { join, resolve } from "node:path";
import { compile } from "../../build.ts";
import { BUN } from "./config.ts";
import { alive, cmdline, own } from "./cleanup.ts";
import { rssKb, tempDir } from "./daemon.ts";
import { waitUntil } from "./measure.ts";

const FIXTURES = resolve(import.meta.dir, "../fixtures");

export interface References {
  dir: string;
  hello: string;
  bareServer: string;
  /** One GET /status over a Unix socket with Bun.connect: the CLI floor. */
  bareClient: string;
  /** Elysia + bun:sqlite (WAL), one route: the memory floor. */
  elysiaServer: string;
}

/**
 * The references, compiled with exactly dist/ve's build settings (build.ts's `compile`), fresh
 * in every run: a binary written earlier can start measurably slower than a freshly written
 * identical one, and dist/ve is rebuilt by `npm run bench` right before this runs.
 */
export async function buildReferences(): Promise<References> {
  const dir = tempDir("refs");
  const refs: References = {
    dir,
    hello: join(dir, "hello"),
    bareServer: join(dir, "bare-server"),
    bareClient: join(dir, "bare-client"),
    elysiaServer: join(dir, "elysia-sqlite-server"),
  };
  await compile(join(FIXTURES, "hello.ts"), refs.hello);
  await compile(join(FIXTURES, "bare-server.ts"), refs.bareServer);
  await compile(join(FIXTURES, "bare-client.ts"), refs.bareClient);
  await compile(join(FIXTURES, "elysia-sqlite-server.ts"), refs.elysiaServer);
  const check = Bun.spawnSync({ cmd: [refs.hello], stdout: "pipe" });
  if (check.stdout.toString() !== "hello\n") throw new Error("the compiled hello-world does not print hello");
  return refs;
}

interface ServerLaunch {
  /** Used in errors. */
  name: string;
  /** Names its temporary directory and socket file. */
  label: string;
  binary: string;
  /** Arguments after the binary, given the socket and a fresh directory of its own. */
  args: (socket: string, dir: string) => string[];
  env?: Record<string, string>;
  /** The one request made before the server counts as started; it must answer 200. */
  probe: string;
  /** Checks the probe's body; throws when it is not what the server should answer. */
  checkProbe?: (body: string) => void;
}

/** A running reference server (a compiled fixture) on its own socket. */
export class ReferenceServer {
  private constructor(
    readonly pid: number,
    readonly socket: string,
    private readonly child: ReturnType<typeof Bun.spawn>,
    private readonly release: () => void,
  ) {}

  static async start(launch: ServerLaunch): Promise<ReferenceServer> {
    const dir = tempDir(launch.label);
    const socket = join(dir, `${launch.label}.sock`);
    const child = Bun.spawn({
      cmd: [launch.binary, ...launch.args(socket, dir)],
      env: { ...process.env, ...launch.env },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "inherit",
      // In a session of its own, as `ve orch start` puts the daemon: Linux schedules each
      // session as one group (autogroup), so a reference sharing the harness's session (and the
      // load client's) was favoured over the daemon on a busy machine (measured: the bare
      // server served 32 concurrent clients twice as fast in the harness's session, load 14).
      detached: true,
    });
    const release = own({
      close: async () => {
        child.kill("SIGTERM");
        await child.exited;
      },
      kill: () => {
        if (alive(child.pid) && cmdline(child.pid)?.includes(socket)) child.kill("SIGKILL");
      },
    });
    const server = new ReferenceServer(child.pid, socket, child, release);
    await waitUntil(`the ${launch.name} socket`, () => {
      if (child.exitCode !== null) throw new Error(`the ${launch.name} exited with ${child.exitCode}`);
      return lstatSync(socket, { throwIfNoEntry: false })?.isSocket() === true;
    });
    // Exactly one request, as `ve orch start`'s readiness probe makes exactly one to the daemon
    // (the idle memory figures compare processes that have served one request each).
    // The socket file exists from bind(), a moment before listen(): until then a connection is
    // refused (Bun reports ECONNREFUSED or ENOENT), and a loaded machine widens that moment.
    let res: Response | undefined;
    await waitUntil(`the ${launch.name} to accept`, async () => {
      try {
        res = await fetch(`http://localhost${launch.probe}`, { unix: socket });
        return true;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (child.exitCode === null && (code === "ECONNREFUSED" || code === "ENOENT")) return false;
        throw error;
      }
    });
    if (!res) throw new Error(`the ${launch.name} did not answer ${launch.probe}`);
    const body = await res.text();
    if (res.status !== 200) throw new Error(`the ${launch.name} answered ${launch.probe} with ${res.status}: ${body.slice(0, 200)}`);
    launch.checkProbe?.(body);
    return server;
  }

  rssKb(): number {
    return rssKb(this.pid);
  }

  async stop(): Promise<void> {
    this.child.kill("SIGTERM");
    await this.child.exited;
    this.release();
  }
}

/** The compiled bare Bun.serve answering every request with `body`. */
export function startBareServer(binary: string, body: string): Promise<ReferenceServer> {
  return ReferenceServer.start({ name: "bare server", label: "bare", binary, args: (socket) => [socket], env: { BENCH_BODY: body }, probe: "/" });
}

/** The compiled minimal Elysia + bun:sqlite server, its database in its own directory. */
export function startElysiaServer(binary: string): Promise<ReferenceServer> {
  return ReferenceServer.start({
    name: "Elysia + bun:sqlite server",
    label: "elysia",
    binary,
    args: (socket, dir) => [socket, dir],
    probe: "/x/1",
    checkProbe: (body) => {
      if ((JSON.parse(body) as { id?: unknown }).id !== 1) throw new Error(`the Elysia + bun:sqlite server answered /x/1 with ${body.slice(0, 200)}`);
    },
  });
}

export interface InsertResult {
  rows: number;
  seconds: number;
  rate: number;
}

/** Raw autocommit inserts into `db` (created on first use), in a process of its own. */
export async function sqliteInserts(db: string, start: number, count: number): Promise<InsertResult> {
  const child = Bun.spawn({
    cmd: [BUN, join(FIXTURES, "sqlite-inserts.ts")],
    stdin: new Blob([JSON.stringify({ db, start, count })]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`sqlite-inserts exited ${code}: ${stderr.trim().slice(0, 500)}`);
  return JSON.parse(stdout) as InsertResult;
}
