// Transport fallbacks: long project paths (socket in the runtime directory), TCP mode with a
// token, and the stale files a killed TCP daemon leaves.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { DaemonStatus, StartResult, WorkUnitList } from "../../src/models/index.ts";
import { unusedPort } from "../helpers/ports.ts";
import { tcpListenAddresses } from "../helpers/processes.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { isRunning, json, useProjects, waitFor } from "./harness.ts";

const { project, track, ve } = useProjects("ve-transport");
const runtimeDirs = useTempDirs("ve-xdg");

/** A project whose `.ve/orchestrator.sock` would be far over the socket path limit. */
function deepProject(base: string, tag: string): string {
  const dir = join(base, ...Array.from({ length: 6 }, (_, i) => `${tag}-nested-directory-level-${i}`));
  mkdirSync(dir, { recursive: true });
  return track(dir);
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

async function startJson(dir: string, args: string[] = [], env: Record<string, string> = {}) {
  const run = await ve(dir, ["orch", "start", "--json", ...args], { env });
  expect(run.code).toBe(0);
  const doc = json<StartResult>(run);
  expect(Value.Check(StartResult, doc)).toBe(true);
  return doc.daemon;
}

describe("long project paths", () => {
  test("a 150+ character project path works through a socket in the runtime directory", async () => {
    const xdg = runtimeDirs();
    const env = { XDG_RUNTIME_DIR: xdg };
    const dir = deepProject(project(), "a");
    expect(dir.length).toBeGreaterThan(150);

    const daemon = await startJson(dir, [], env);
    expect(daemon.transport).toBe("unix");
    const socket = daemon.socket as string;
    expect(socket.startsWith(join(xdg, `ve-${process.getuid?.()}`))).toBe(true);
    expect(Buffer.byteLength(socket)).toBeLessThanOrEqual(100);
    expect(mode(join(xdg, `ve-${process.getuid?.()}`))).toBe(0o700);
    expect(statSync(socket).isSocket()).toBe(true);
    expect(mode(socket)).toBe(0o600);

    expect((await ve(dir, ["orch", "work-unit", "create", "deep"], { env })).code).toBe(0);
    const ps = await ve(dir, ["orch", "ps", "--json"], { env });
    expect(ps.code).toBe(0);
    expect(json<{ count: number }>(ps).count).toBe(1);
    const status = await ve(dir, ["orch", "status"], { env });
    expect(status.stdout).toContain(socket);

    const stop = await ve(dir, ["orch", "stop"], { env });
    expect(stop.code).toBe(0);
    expect(await waitFor(() => !statSync(socket, { throwIfNoEntry: false }))).toBe(true);
  });

  test("two different long projects never share a socket", async () => {
    const env = { XDG_RUNTIME_DIR: runtimeDirs() };
    const base = project();
    const one = deepProject(base, "one");
    const two = deepProject(base, "two");
    const a = await startJson(one, [], env);
    const b = await startJson(two, [], env);
    expect(a.socket).not.toBe(b.socket);
    expect(a.pid).not.toBe(b.pid);
    await ve(one, ["orch", "work-unit", "create", "only-in-one"], { env });
    const listed = json<{ work_units: { chunk: string }[] }>(await ve(two, ["orch", "ps", "--json"], { env }));
    expect(listed.work_units.map((u) => u.chunk)).toEqual([]);
  });

  test("an unusable runtime directory falls back to TCP instead of failing", async () => {
    const env = { XDG_RUNTIME_DIR: "/proc/ve-cannot-create-here" };
    const dir = deepProject(project(), "c");
    const daemon = await startJson(dir, [], env);
    expect(daemon.transport).toBe("tcp");
    expect((await ve(dir, ["orch", "ps", "--json"], { env })).code).toBe(0);
  });
});

describe("TCP mode", () => {
  async function tcpDaemon() {
    const dir = project();
    const daemon = await startJson(dir, ["--tcp"]);
    expect(daemon.transport).toBe("tcp");
    expect(daemon.socket).toBeNull();
    const port = Number(readFileSync(join(dir, ".ve", "orchestrator.port"), "utf8"));
    const token = readFileSync(join(dir, ".ve", "orchestrator.token"), "utf8").trim();
    expect(daemon.port).toBe(port);
    return { dir, daemon, port, token };
  }

  test("end to end with the compiled binary; port and token files are private", async () => {
    const { dir, port, token } = await tcpDaemon();
    expect(mode(join(dir, ".ve", "orchestrator.port"))).toBe(0o600);
    expect(mode(join(dir, ".ve", "orchestrator.token"))).toBe(0o600);
    expect(token.length).toBeGreaterThanOrEqual(32);

    expect((await ve(dir, ["orch", "work-unit", "create", "over-tcp"])).code).toBe(0);
    const ps = await ve(dir, ["orch", "ps", "--json"]);
    expect(Value.Check(WorkUnitList, json(ps))).toBe(true);
    const status = await ve(dir, ["orch", "status", "--json"]);
    const doc = json<DaemonStatus>(status);
    expect(doc.transport).toBe("tcp");
    expect(doc.port).toBe(port);
    expect((await ve(dir, ["orch", "status"])).stdout).toContain(`tcp 127.0.0.1:${port}`);

    const stop = await ve(dir, ["orch", "stop", "--json"]);
    expect(stop.code).toBe(0);
    expect(statSync(join(dir, ".ve", "orchestrator.port"), { throwIfNoEntry: false })).toBeUndefined();
    expect(statSync(join(dir, ".ve", "orchestrator.token"), { throwIfNoEntry: false })).toBeUndefined();
  });

  test("a fixed --port is used, and a busy one is a clear failure", async () => {
    const blocker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("busy") });
    try {
      const busy = await ve(project(), ["orch", "start", "--tcp", "--port", String(blocker.port)]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(`${blocker.port}`);
      expect(busy.stderr).toContain("another --port");
    } finally {
      blocker.stop(true);
    }
    const port = unusedPort();
    const daemon = await startJson(project(), ["--tcp", "--port", String(port)]);
    expect(daemon.port).toBe(port);
  });

  test("a wrong or missing token gets 401; an Origin or a foreign Host gets 403", async () => {
    const { port, token } = await tcpDaemon();
    const url = `http://127.0.0.1:${port}/work-units`;
    const code = async (headers: Record<string, string>) => {
      const response = await fetch(url, { headers });
      const body = (await response.json()) as { error?: { code: string } };
      return [response.status, body.error?.code ?? "ok"];
    };
    expect(await code({})).toEqual([401, "unauthorized"]);
    expect(await code({ authorization: "Bearer wrong" })).toEqual([401, "unauthorized"]);
    expect(await code({ authorization: `Basic ${token}` })).toEqual([401, "unauthorized"]);
    expect(await code({ authorization: `Bearer ${token}x` })).toEqual([401, "unauthorized"]);
    expect(await code({ authorization: `Bearer ${token}` })).toEqual([200, "ok"]);
    expect(await code({ authorization: `Bearer ${token}`, origin: "http://localhost:3000" })).toEqual([403, "forbidden"]);
    expect(await code({ authorization: `Bearer ${token}`, host: "attacker.example" })).toEqual([403, "forbidden"]);
    expect(await code({ authorization: `Bearer ${token}`, host: `localhost.attacker.example:${port}` })).toEqual([
      403,
      "forbidden",
    ]);
    expect(await code({ authorization: `Bearer ${token}`, host: `localhost:${port}` })).toEqual([200, "ok"]);
  });

  test("the port is bound to 127.0.0.1 only", async () => {
    const { port } = await tcpDaemon();
    // Not 0.0.0.0, not ::, not another interface: loopback over IPv4 alone.
    expect(tcpListenAddresses(port)).toEqual(["127.0.0.1"]);
  });

  test("the token is regenerated at each start", async () => {
    const { dir, token } = await tcpDaemon();
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
    const again = await startJson(dir, ["--tcp"]);
    expect(again.transport).toBe("tcp");
    const next = readFileSync(join(dir, ".ve", "orchestrator.token"), "utf8").trim();
    expect(next).not.toBe(token);
  });

  test("stale port and token files from a killed TCP daemon do not block the next start", async () => {
    const { dir, daemon } = await tcpDaemon();
    process.kill(daemon.pid, "SIGKILL");
    expect(await waitFor(() => !isRunning(daemon.pid))).toBe(true);

    const status = await ve(dir, ["orch", "status"]);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain("orchestrator.port");

    const restarted = await startJson(dir, ["--tcp"]);
    expect(restarted.pid).not.toBe(daemon.pid);
    expect((await ve(dir, ["orch", "ps"])).code).toBe(0);
  });

  test("stale TCP files do not stop a Unix-socket start either", async () => {
    const dir = project();
    mkdirSync(join(dir, ".ve"), { mode: 0o700 });
    writeFileSync(join(dir, ".ve", "orchestrator.port"), "1\n", { mode: 0o600 });
    writeFileSync(join(dir, ".ve", "orchestrator.token"), "stale\n", { mode: 0o600 });
    const daemon = await startJson(dir);
    expect(daemon.transport).toBe("unix");
    expect(statSync(join(dir, ".ve", "orchestrator.port"), { throwIfNoEntry: false })).toBeUndefined();
    expect((await ve(dir, ["orch", "ps"])).code).toBe(0);
  });
});
