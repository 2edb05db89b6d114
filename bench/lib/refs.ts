// The references the harness builds and runs itself in every run: a compiled hello-world, a
// compiled bare Bun.serve on a Unix socket, and raw bun:sqlite inserts.
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
}

/** The references, compiled with exactly dist/ve's build settings (build.ts's `compile`). */
export async function buildReferences(): Promise<References> {
  const dir = tempDir("refs");
  const hello = join(dir, "hello");
  const bareServer = join(dir, "bare-server");
  await compile(join(FIXTURES, "hello.ts"), hello);
  await compile(join(FIXTURES, "bare-server.ts"), bareServer);
  const check = Bun.spawnSync({ cmd: [hello], stdout: "pipe" });
  if (check.stdout.toString() !== "hello\n") throw new Error("the compiled hello-world does not print hello");
  return { dir, hello, bareServer };
}

/** A running bare server (the compiled fixture) on its own socket. */
export class BareServer {
  private constructor(
    readonly pid: number,
    readonly socket: string,
    private readonly child: ReturnType<typeof Bun.spawn>,
    private readonly release: () => void,
  ) {}

  static async start(binary: string, body: string): Promise<BareServer> {
    const socket = join(tempDir("bare"), "bare.sock");
    const child = Bun.spawn({
      cmd: [binary, socket],
      env: { ...process.env, BENCH_BODY: body },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "inherit",
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
    const server = new BareServer(child.pid, socket, child, release);
    await waitUntil("the bare server's socket", async () => {
      if (child.exitCode !== null) throw new Error(`the bare server exited with ${child.exitCode}`);
      if (!lstatSync(socket, { throwIfNoEntry: false })?.isSocket()) return false;
      // One request, as `ve orch start`'s readiness probe makes one to the daemon.
      const res = await fetch("http://localhost/", { unix: socket });
      await res.text();
      return res.ok;
    });
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
