// The typed client of the daemon's API (src/client/client.ts) against the real app over a real
// store, served the way the daemon serves it: on the project's socket, or on loopback TCP with
// a token. DESIGN.md "CLI": "not running" says how to start it, no command hangs; "HTTP API":
// errors keep their code and message, a daemon of another version is warned about once.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, linkSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server, UnixSocketListener } from "bun";
import { createApp } from "../../src/api/app.ts";
import { Client, REQUEST_TIMEOUT_MS, findTcpEndpoint, requestTimeoutMs } from "../../src/client/client.ts";
import { VeError } from "../../src/errors.ts";
import { ensureStateDir } from "../../src/project/state-dir.ts";
import { type ProjectPaths, projectPaths } from "../../src/project/paths.ts";
import { Store } from "../../src/state/store.ts";
import { VERSION } from "../../src/version.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { unusedPort } from "../helpers/ports.ts";

const VERSION_FIXTURE = join(import.meta.dir, "fixtures", "version-warning.ts");
const tempDir = useTempDirs("ve-client");

const servers: Server<undefined>[] = [];
const listeners: UnixSocketListener<unknown>[] = [];
const stores: Store[] = [];
const savedTimeoutEnv = process.env.VE_REQUEST_TIMEOUT_MS;
afterEach(() => {
  for (const server of servers.splice(0)) server.stop(true);
  for (const listener of listeners.splice(0)) listener.stop(true);
  for (const store of stores.splice(0)) store.close();
  if (savedTimeoutEnv === undefined) delete process.env.VE_REQUEST_TIMEOUT_MS;
  else process.env.VE_REQUEST_TIMEOUT_MS = savedTimeoutEnv;
});

/** A fresh project with its `.ve/` and a store, but no daemon. */
function project(): { paths: ProjectPaths; store: Store } {
  const paths = projectPaths(tempDir());
  ensureStateDir(paths);
  const store = Store.open(paths.db);
  stores.push(store);
  return { paths, store };
}

function appFor(paths: ProjectPaths, store: Store, options: { token?: string; port?: number } = {}) {
  return createApp(
    store,
    {
      pid: process.pid,
      version: VERSION,
      startedAt: new Date(),
      projectDir: paths.root,
      transport: options.token ? "tcp" : "unix",
      socket: options.token ? null : paths.socket,
      port: options.port ?? null,
    },
    options.token ? { token: options.token } : {},
  );
}

/** The real app on the project's socket, as the daemon serves it. */
function daemonOnSocket() {
  const { paths, store } = project();
  const app = appFor(paths, store);
  servers.push(Bun.serve({ unix: paths.socket, fetch: (request) => app.handle(request) }));
  return { paths, store };
}

/** The real app on 127.0.0.1 with a bearer token, with the port and token files written. */
function daemonOnTcp(token = "s3cret-token") {
  const { paths, store } = project();
  let app = appFor(paths, store, { token });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => app.handle(request) });
  servers.push(server);
  app = appFor(paths, store, { token, port: server.port as number });
  writeFileSync(paths.port, `${server.port}\n`, { mode: 0o600 });
  writeFileSync(paths.token, `${token}\n`, { mode: 0o600 });
  return { paths, store, port: server.port as number };
}

/** The VeError a call fails with, whether it throws at once or rejects. */
async function veError(call: () => Promise<unknown>): Promise<VeError> {
  try {
    await call();
  } catch (error) {
    if (error instanceof VeError) return error;
    throw new Error(`expected a VeError, got ${String(error)}`);
  }
  throw new Error("expected a VeError, but the call succeeded");
}

describe("Client over the project's Unix socket", () => {
  test("status: the daemon's status document and the raw text", async () => {
    const { paths } = daemonOnSocket();
    const reply = await new Client(paths, { timeoutMs: 3000 }).status();
    expect(reply.status).toBe(200);
    expect(reply.data.running).toBe(true);
    expect(reply.data.pid).toBe(process.pid);
    expect(reply.data.version).toBe(VERSION);
    expect(reply.data.project_dir).toBe(paths.root);
    expect(reply.data.socket).toBe(paths.socket);
    expect(JSON.parse(reply.text)).toEqual(reply.data);
  });

  test("create, get, list (with filters), update, history and delete: typed data and the body as sent", async () => {
    const { paths } = daemonOnSocket();
    const client = new Client(paths, { timeoutMs: 3000 });

    const created = await client.createWorkUnit({ chunk: "parser" });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ chunk: "parser", phase: "GOAL", status: "READY", blocked_by: [] });
    expect(JSON.parse(created.text)).toEqual(created.data);

    const blocked = await client.createWorkUnit({ chunk: "cli", blocked_by: ["parser"] });
    expect(blocked.data.status).toBe("BLOCKED");

    expect((await client.getWorkUnit("parser")).data.chunk).toBe("parser");

    const all = await client.listWorkUnits();
    expect(all.data.count).toBe(2);
    expect(all.data.work_units.map((u) => u.chunk)).toEqual(["parser", "cli"]);
    const onlyBlocked = await client.listWorkUnits({ status: "BLOCKED" });
    expect(onlyBlocked.data.work_units.map((u) => u.chunk)).toEqual(["cli"]);
    const onlyPlan = await client.listWorkUnits({ phase: "PLAN" });
    expect(onlyPlan.data.count).toBe(0);

    const done = await client.updateWorkUnit("parser", { status: "DONE" });
    expect(done.data.status).toBe("DONE");
    expect((await client.getWorkUnit("cli")).data.status).toBe("READY");

    const history = await client.history("parser");
    expect(history.data.chunk).toBe("parser");
    expect(history.data.history.map((h) => h.new_status)).toEqual(["READY", "DONE"]);

    const deleted = await client.deleteWorkUnit("cli", false);
    expect(deleted.data).toEqual({ deleted: true, chunk: "cli" });
    expect((await client.listWorkUnits()).data.count).toBe(1);
  });

  test("API errors become VeErrors with the API's code, message and details", async () => {
    const { paths } = daemonOnSocket();
    const client = new Client(paths, { timeoutMs: 3000 });

    const missing = await veError(() => client.getWorkUnit("nope"));
    expect(missing.code).toBe("not_found");
    expect(missing.message).toContain("nope");

    await client.createWorkUnit({ chunk: "a" });
    const duplicate = await veError(() => client.createWorkUnit({ chunk: "a" }));
    expect(duplicate.code).toBe("already_exists");

    const invalid = await veError(() => client.createWorkUnit({ chunk: "../escape" }));
    expect(invalid.code).toBe("validation_failed");
    expect(JSON.stringify(invalid.details)).toContain("chunk");

    await client.createWorkUnit({ chunk: "b", blocked_by: ["a"] });
    const dependents = await veError(() => client.deleteWorkUnit("a", false));
    expect(dependents.code).toBe("has_dependents");
    expect((await client.deleteWorkUnit("a", true)).data.deleted).toBe(true);

    await client.createWorkUnit({ chunk: "c", blocked_by: ["not-yet-a-unit"] });
    const transition = await veError(() => client.updateWorkUnit("c", { status: "RUNNING" }));
    expect(["blocked", "invalid_transition"]).toContain(transition.code);
  });

  test("chunk names travel URL-encoded", async () => {
    const { paths } = daemonOnSocket();
    const client = new Client(paths, { timeoutMs: 3000 });
    await client.createWorkUnit({ chunk: "v1.2_x-y" });
    expect((await client.getWorkUnit("v1.2_x-y")).data.chunk).toBe("v1.2_x-y");
    // A name with a slash, or a path step, must not reach another route.
    for (const name of ["a/history", "..", ".", "../status"]) {
      const error = await veError(() => client.getWorkUnit(name));
      expect({ name, code: error.code, ok: ["not_found", "validation_failed"].includes(error.code) }).toEqual({
        name,
        code: error.code,
        ok: true,
      });
    }
  });
});

describe("Client: no daemon, a dead one, a silent one", () => {
  test("no endpoint at all: daemon_not_running, saying to run `ve orch start`", async () => {
    const { paths } = project();
    const error = await veError(() => new Client(paths, { timeoutMs: 3000 }).status());
    expect(error.code).toBe("daemon_not_running");
    expect(error.message).toContain("`ve orch start`");
    expect(error.message).toContain(paths.root);
    expect(error.details).toMatchObject({ project_dir: paths.root });
    expect((error.details as Record<string, unknown>).stale_file).toBeUndefined();
  });

  test("no .ve directory at all: daemon_not_running as well", async () => {
    const paths = projectPaths(tempDir());
    const error = await veError(() => new Client(paths, { timeoutMs: 3000 }).listWorkUnits());
    expect(error.code).toBe("daemon_not_running");
  });

  test("a stale socket file left by a dead daemon: daemon_not_running naming the file", async () => {
    const { paths } = project();
    const live = join(paths.stateDir, "live.sock");
    const listener = Bun.listen({ unix: live, socket: { data() {} } });
    linkSync(live, paths.socket);
    listener.stop(true);
    const error = await veError(() => new Client(paths, { timeoutMs: 3000 }).status());
    expect(error.code).toBe("daemon_not_running");
    expect(error.message).toContain("`ve orch start`");
    expect(error.message).toContain(paths.socket);
    expect(error.details).toMatchObject({ project_dir: paths.root, stale_file: paths.socket });
  });

  test("a server that accepts and never answers: daemon_unresponsive within timeoutMs", async () => {
    const { paths } = project();
    listeners.push(Bun.listen({ unix: paths.socket, socket: { data() {} } }));
    const started = performance.now();
    const error = await veError(() => new Client(paths, { timeoutMs: 300 }).status());
    const elapsed = performance.now() - started;
    expect(error.code).toBe("daemon_unresponsive");
    expect(error.message).toContain(paths.socket);
    expect(error.details).toMatchObject({ timeout_ms: 300 });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1500);
  });

  test("something that is not a ve daemon on the socket: bad_response, not a crash", async () => {
    const { paths } = project();
    servers.push(Bun.serve({ unix: paths.socket, fetch: () => new Response("<html>hello</html>", { status: 200 }) }));
    const client = new Client(paths, { timeoutMs: 3000 });
    // Whether at the call or when the data is read, the answer is refused.
    expect((await veError(async () => (await client.status()).data)).code).toBe("bad_response");
  });

  test("an error status without an error object: bad_response", async () => {
    const { paths } = project();
    servers.push(Bun.serve({ unix: paths.socket, fetch: () => Response.json({ nope: 1 }, { status: 500 }) }));
    expect((await veError(() => new Client(paths, { timeoutMs: 3000 }).status())).code).toBe("bad_response");
  });

  test("garbage bytes on the socket: bad_response", async () => {
    const { paths } = project();
    listeners.push(
      Bun.listen({
        unix: paths.socket,
        socket: {
          data(socket) {
            socket.end("garbage that is not HTTP\r\n\r\n");
          },
        },
      }),
    );
    expect((await veError(() => new Client(paths, { timeoutMs: 3000 }).status())).code).toBe("bad_response");
  });
});

describe("Client over loopback TCP (port + token files)", () => {
  test("with the right token, requests work", async () => {
    const { paths, port } = daemonOnTcp();
    expect(existsSync(paths.socket)).toBe(false);
    expect(await findTcpEndpoint(paths)).toEqual({ transport: "tcp", port, token: "s3cret-token" });
    const client = new Client(paths, { timeoutMs: 3000 });
    expect((await client.status()).data.running).toBe(true);
    expect((await client.createWorkUnit({ chunk: "over-tcp" })).data.chunk).toBe("over-tcp");
    expect((await client.listWorkUnits()).data.count).toBe(1);
  });

  test("a wrong token surfaces `unauthorized`", async () => {
    const { paths } = daemonOnTcp("the-real-token");
    writeFileSync(paths.token, "a-wrong-token\n", { mode: 0o600 });
    const error = await veError(() => new Client(paths, { timeoutMs: 3000 }).status());
    expect(error.code).toBe("unauthorized");
  });

  test("a port file left by a dead daemon: daemon_not_running naming the port file", async () => {
    const { paths } = project();
    const port = unusedPort();
    writeFileSync(paths.port, `${port}\n`, { mode: 0o600 });
    writeFileSync(paths.token, "t\n", { mode: 0o600 });
    const error = await veError(() => new Client(paths, { timeoutMs: 3000 }).status());
    expect(error.code).toBe("daemon_not_running");
    expect(error.details).toMatchObject({ stale_file: paths.port });
  });
});

describe("finding the daemon: the socket first, then port + token", () => {
  test("a live socket wins over port and token files", async () => {
    const { paths } = daemonOnSocket();
    writeFileSync(paths.port, "1\n", { mode: 0o600 });
    writeFileSync(paths.token, "tok\n", { mode: 0o600 });
    const reply = await new Client(paths, { timeoutMs: 3000 }).status();
    expect(reply.data.transport).toBe("unix");
  });

  test("a regular file at the socket path is not taken for a daemon: the TCP daemon is reached", async () => {
    const { paths } = daemonOnTcp();
    writeFileSync(paths.socket, "not a socket");
    const reply = await new Client(paths, { timeoutMs: 3000 }).status();
    expect(reply.data.running).toBe(true);
    expect(reply.data.transport).toBe("tcp");
  });

  test("a stale socket file next to a live TCP daemon: the TCP daemon is reached", async () => {
    const { paths } = daemonOnTcp();
    const live = join(paths.stateDir, "other.sock");
    const listener = Bun.listen({ unix: live, socket: { data() {} } });
    linkSync(live, paths.socket);
    listener.stop(true);
    expect((await new Client(paths, { timeoutMs: 3000 }).status()).data.transport).toBe("tcp");
  });

  test("a regular file or a directory at the socket path and nothing else: daemon_not_running", async () => {
    const { paths } = project();
    writeFileSync(paths.socket, "not a socket");
    expect((await veError(() => new Client(paths, { timeoutMs: 3000 }).status())).code).toBe("daemon_not_running");
    unlinkSync(paths.socket);
    mkdirSync(paths.socket);
    expect((await veError(() => new Client(paths, { timeoutMs: 3000 }).status())).code).toBe("daemon_not_running");
    rmSync(paths.socket, { recursive: true });
  });

  test("findTcpEndpoint: nothing without files", async () => {
    const { paths } = project();
    expect(await findTcpEndpoint(paths)).toBeUndefined();
  });

  test("findTcpEndpoint: the port and the token, trimmed", async () => {
    const { paths } = project();
    writeFileSync(paths.port, " 4242 \n", { mode: 0o600 });
    writeFileSync(paths.token, "tok\n", { mode: 0o600 });
    expect(await findTcpEndpoint(paths)).toEqual({ transport: "tcp", port: 4242, token: "tok" });
  });

  test("findTcpEndpoint: a port without a token, an empty token, or a bad port is no endpoint", async () => {
    const { paths } = project();
    writeFileSync(paths.port, "4242\n", { mode: 0o600 });
    expect(await findTcpEndpoint(paths)).toBeUndefined();
    writeFileSync(paths.token, "\n", { mode: 0o600 });
    expect(await findTcpEndpoint(paths)).toBeUndefined();
    writeFileSync(paths.token, "tok\n", { mode: 0o600 });
    for (const bad of ["", "0", "-1", "abc", "42.5"]) {
      writeFileSync(paths.port, `${bad}\n`, { mode: 0o600 });
      expect({ bad, endpoint: await findTcpEndpoint(paths) }).toEqual({ bad, endpoint: undefined });
    }
  });
});

describe("request timeout", () => {
  test("5 s by default; VE_REQUEST_TIMEOUT_MS changes it; nonsense is ignored", () => {
    delete process.env.VE_REQUEST_TIMEOUT_MS;
    expect(REQUEST_TIMEOUT_MS).toBe(5000);
    expect(requestTimeoutMs()).toBe(5000);
    process.env.VE_REQUEST_TIMEOUT_MS = "250";
    expect(requestTimeoutMs()).toBe(250);
    for (const bad of ["abc", "0", "-5", ""]) {
      process.env.VE_REQUEST_TIMEOUT_MS = bad;
      expect(requestTimeoutMs()).toBe(5000);
    }
  });

  test("a Client without timeoutMs uses VE_REQUEST_TIMEOUT_MS", async () => {
    const { paths } = project();
    listeners.push(Bun.listen({ unix: paths.socket, socket: { data() {} } }));
    process.env.VE_REQUEST_TIMEOUT_MS = "200";
    const started = performance.now();
    const error = await veError(() => new Client(paths).status());
    expect(error.code).toBe("daemon_unresponsive");
    expect(performance.now() - started).toBeLessThan(1500);
  });
});

describe("version skew", () => {
  test("a daemon of another version is warned about once per process, naming both versions", async () => {
    const dir = tempDir();
    const child = Bun.spawn([process.execPath, VERSION_FIXTURE, dir], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const [stdout, stderr, code] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited,
      ]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      const result = JSON.parse(stdout) as { a: string[]; b: string[]; steps: Record<string, number> };
      // Same version: no warning.
      expect(result.steps.afterSameVersion).toBe(0);
      // The first answer from another version warns...
      expect(result.steps.afterFirstOther).toBe(1);
      // ...and nothing after it does, for this client or any other in the process.
      expect(result.a).toHaveLength(1);
      expect(result.b).toHaveLength(0);
      expect(result.a[0]).toContain("0.0.0-other");
      expect(result.a[0]).toContain(VERSION);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  });
});

describe("the port and token files are trusted only when they are the user's own (issue 9 item 1)", () => {
  test("a token or port file that is a link, another user's, or readable by others is refused, never read", async () => {
    if (process.getuid?.() !== 0) {
      console.log("skipped: giving a file to another user needs root");
      return;
    }
    const { paths } = daemonOnTcp("the-real-token");
    const { symlinkSync, chownSync, chmodSync } = await import("node:fs");
    // Another user's token file.
    chownSync(paths.token, 65534, 65534);
    let error = await veError(() => findTcpEndpoint(paths));
    expect(error.code).toBe("unsafe_path");
    expect(error.message).toContain(paths.token);
    expect(error.message).toContain("uid 65534");
    chownSync(paths.token, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    // A token readable by others.
    chmodSync(paths.token, 0o644);
    error = await veError(() => findTcpEndpoint(paths));
    expect(error.code).toBe("unsafe_path");
    expect(error.message).toContain("0644");
    // A port file that is a link.
    const elsewhere = join(paths.root, "elsewhere-port");
    writeFileSync(elsewhere, "4242\n", { mode: 0o600 });
    rmSync(paths.port);
    symlinkSync(elsewhere, paths.port);
    error = await veError(() => new Client(paths, { timeoutMs: 3000 }).status());
    expect(error.code).toBe("unsafe_path");
    expect(error.message).toContain(paths.port);
  });
});
