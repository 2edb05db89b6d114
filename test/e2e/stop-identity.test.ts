// `ve orch stop` signals only the process the lock holder recorded and the kernel confirms
// (issue 9 items 5 and 14): an impostor answering GET /status on the socket with an innocent
// pid gets that pid nothing; another user's stop says permission was denied and exits 1.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, unlinkSync } from "node:fs";
import type { Server, Subprocess } from "bun";
import { VE, isRunning, run, stateFiles, useProjects, waitFor } from "./harness.ts";
import { useOtherUser } from "../helpers/users.ts";

const { project, ve } = useProjects("ve-stopid");
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A process that must survive: it ignores nothing, so any SIGTERM ends it. */
function innocent(): Subprocess {
  const child = Bun.spawn(["sleep", "120"], { stdio: ["ignore", "ignore", "ignore"] });
  cleanups.push(() => child.kill("SIGKILL"));
  return child;
}

/** Serves, on `socket`, the status document a real daemon gave, with `pid` in it. */
function impostor(socket: string, body: Record<string, unknown>, headers: Headers, pid: number): Server<undefined> {
  const forged = JSON.stringify({ ...body, pid });
  const server = Bun.serve({
    unix: socket,
    fetch: () => new Response(forged, { headers: { "content-type": "application/json", ...Object.fromEntries(headers) } }),
  });
  cleanups.push(() => server.stop(true));
  return server;
}

/** A real daemon's GET /status answer, to forge from. */
async function realStatus(dir: string): Promise<{ body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch("http://localhost/status", { unix: stateFiles(dir).socket });
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return { body: (await response.json()) as Record<string, unknown>, headers };
}

describe("stop identifies the daemon by its lock, not by the socket's answer", () => {
  test("an impostor on the socket with no daemon running: the pid it names is not signalled", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    const status = await realStatus(dir);
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);

    const victim = innocent();
    impostor(stateFiles(dir).socket, status.body, status.headers, victim.pid);
    const stop = await ve(dir, ["orch", "stop"]);
    expect(isRunning(victim.pid)).toBe(true);
    expect(victim.exitCode).toBeNull();
    expect(stop.stdout).toContain("was not running");
    expect(stop.code).toBe(0);
  });

  test("an impostor in place of a running daemon's socket: the daemon is stopped, the named pid is not", async () => {
    const dir = project();
    const start = await ve(dir, ["orch", "start", "--json"]);
    expect(start.code).toBe(0);
    const daemonPid = (JSON.parse(start.stdout) as { daemon: { pid: number } }).daemon.pid;
    const status = await realStatus(dir);

    const victim = innocent();
    unlinkSync(stateFiles(dir).socket);
    impostor(stateFiles(dir).socket, status.body, status.headers, victim.pid);
    await ve(dir, ["orch", "stop"]);
    expect(await waitFor(() => !isRunning(daemonPid), 10_000)).toBe(true);
    expect(isRunning(victim.pid)).toBe(true);
    expect(victim.exitCode).toBeNull();
  });
});

/** A throwaway unprivileged user, or undefined (with the reason printed) if one cannot be made. */

const otherUser = useOtherUser("vestop");

describe("stop by another user", () => {
  test("says permission was denied, exits 1, and leaves the daemon running", async () => {
    const user = otherUser();
    if (typeof user === "string") {
      console.warn(`skipped: ${user}`);
      return;
    }
    const dir = project();
    const start = await ve(dir, ["orch", "start", "--json"]);
    expect(start.code).toBe(0);
    const daemonPid = (JSON.parse(start.stdout) as { daemon: { pid: number } }).daemon.pid;
    // The other user may enter the project (as in a shared checkout); .ve/ stays 0700.
    chmodSync(dir, 0o755);

    const stop = await run(user.argv([user.runnable(VE), "orch", "stop", "--project-dir", dir]));
    expect(stop.stderr).toMatch(/permission denied/i);
    expect(stop.stderr).toContain("another user");
    expect(stop.stdout).not.toContain("was not running");
    expect(stop.code).toBe(1);
    expect(isRunning(daemonPid)).toBe(true);
  });
});
