// Another local user must never pass for this user's daemon (issue 9 item 1). For a long
// project path the socket lives in $XDG_RUNTIME_DIR (or /tmp) under `ve-<uid>/`, a name
// anyone can create first; daemon and client both refuse a socket directory that is not a
// real directory of the user's own with no group or other bits, and a socket that is not the
// user's, naming the path and the owner, and never fall back to TCP instead. The attacker is
// a second, unprivileged user that this file creates.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type OtherUser, useOtherUser } from "../helpers/users.ts";
import { killQuietly, useProjects, waitFor } from "./harness.ts";

const { project, track, ve } = useProjects("ve-hijack");
const otherUser = useOtherUser("ve-attacker");

/** What the attacker runs: a fake daemon that answers every request and records it. */
const FAKE_DAEMON = `
import os, socket, sys
path, dir_mode, link_to, log, ready = sys.argv[1:6]
directory = os.path.dirname(path)
if link_to != "-":
    os.mkdir(link_to)
    os.chmod(link_to, 0o755)
    os.symlink(link_to, directory)
    path = os.path.join(link_to, os.path.basename(path))
elif dir_mode != "-":
    os.mkdir(directory)
    os.chmod(directory, int(dir_mode, 8))
s = socket.socket(socket.AF_UNIX)
s.bind(path)
os.chmod(path, 0o777)
s.listen(16)
open(ready, "w").close()
body = b'{"running":true,"pid":4242,"version":"0.1.0","project_dir":"/","transport":"unix","socket":"x","port":null,"started_at":"2026-01-01T00:00:00.000Z","uptime_s":1}'
while True:
    c, _ = s.accept()
    try:
        data = c.recv(65536)
        if data:
            with open(log, "ab") as f:
                f.write(data[:300] + b"\\n")
            c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n" % len(body) + body)
    except OSError:
        pass
    c.close()
`;

interface Scene {
  user: OtherUser;
  /** $XDG_RUNTIME_DIR for the victim: a sticky, world-writable directory like /tmp. */
  runtime: string;
  /** The victim's project, with a path too long for a socket in .ve/. */
  dir: string;
  /** Where the victim's socket goes: <runtime>/ve-<uid>/<digest>.sock. */
  socket: string;
  env: Record<string, string>;
  /** What the attacker's fake daemon received. */
  received(): string;
}

/** A system python the other user can run (the root user's own may live in an unreadable home). */
const PYTHON = ["/usr/bin/python3", "/usr/local/bin/python3"].find((path) => existsSync(path));

function scene(): Scene | undefined {
  const user = otherUser();
  if (typeof user === "string") {
    console.log(`skipped: ${user}`);
    return undefined;
  }
  if (!PYTHON) {
    console.log("skipped: no system python3 for the other user's fake daemon");
    return undefined;
  }
  const base = project();
  chmodSync(base, 0o755);
  const runtime = join(base, "run");
  mkdirSync(runtime);
  chmodSync(runtime, 0o1777);
  const attackerHome = join(base, "attacker");
  mkdirSync(attackerHome);
  chownSync(attackerHome, user.uid, user.gid);
  writeFileSync(join(attackerHome, "fake-daemon.py"), FAKE_DAEMON);
  // The attacker's own file, readable by it whatever the umask the tests run under.
  chownSync(join(attackerHome, "fake-daemon.py"), user.uid, user.gid);
  const dir = track(join(base, `project-${"p".repeat(100)}`));
  mkdirSync(dir);
  const digest = createHash("sha256").update(dir).digest("hex").slice(0, 16);
  const socket = join(runtime, `ve-${process.getuid?.()}`, `${digest}.sock`);
  const log = join(attackerHome, "received");
  return {
    user,
    runtime,
    dir,
    socket,
    env: { XDG_RUNTIME_DIR: runtime },
    received: () => (existsSync(log) ? readFileSync(log, "utf8") : ""),
  };
}

/** Starts the attacker's fake daemon as the other user; `dirMode` creates the socket directory, `linkTo` a symlink to it. */
async function attacker(s: Scene, socket: string, options: { dirMode?: string; linkTo?: string }): Promise<Subprocess> {
  const home = join(s.runtime, "..", "attacker");
  const ready = join(home, "ready");
  const child = Bun.spawn(
    s.user.argv([PYTHON as string, join(home, "fake-daemon.py"), socket, options.dirMode ?? "-", options.linkTo ?? "-", join(home, "received"), ready]),
    { stdout: "ignore", stderr: "pipe" },
  );
  if (!(await waitFor(() => existsSync(ready), 10_000))) {
    child.kill("SIGKILL");
    throw new Error(`the fake daemon did not start: ${await new Response(child.stderr).text()}`);
  }
  return child;
}

/** Every command the victim runs is refused, names `path` (and the owner), and sends the attacker nothing. */
async function expectRefused(s: Scene, path: string, why: string) {
  for (const args of [["orch", "status"], ["orch", "ps"], ["orch", "work-unit", "create", "secret-plan"], ["orch", "start"]]) {
    const r = await ve(s.dir, args, { env: s.env });
    expect({ args, code: r.code, out: r.stdout + r.stderr }).toMatchObject({ args, code: 1 });
    expect(r.stderr).toContain(path);
    expect(r.stderr).toContain(why);
  }
  // The daemon side, reached without a client probe first.
  const foreground = await ve(s.dir, ["orch", "start", "--foreground"], { env: s.env, timeoutMs: 15_000 });
  expect(foreground.code).toBe(1);
  expect(foreground.stderr).toContain(path);
  // Nothing went to the attacker, and no silent fallback to TCP happened.
  expect(s.received()).toBe("");
  expect(existsSync(join(s.dir, ".ve", "orchestrator.port"))).toBe(false);
  expect(existsSync(join(s.dir, ".ve", "orchestrator.token"))).toBe(false);
}

describe("a socket directory another user made first", () => {
  test("ve-<uid>/ created 0777 by another user, with its socket listening: refused, naming the owner", async () => {
    const s = scene();
    if (!s) return;
    const fake = await attacker(s, s.socket, { dirMode: "777" });
    try {
      const dirPath = s.socket.slice(0, s.socket.lastIndexOf("/"));
      await expectRefused(s, dirPath, s.user.name);
    } finally {
      killQuietly(fake.pid);
    }
  });

  test("ve-<uid> as a symlink to another user's directory: refused as a link", async () => {
    const s = scene();
    if (!s) return;
    const fake = await attacker(s, s.socket, { linkTo: join(s.runtime, "attacker-owned") });
    try {
      await expectRefused(s, s.socket.slice(0, s.socket.lastIndexOf("/")), "symbolic link");
    } finally {
      killQuietly(fake.pid);
    }
  });

  test("the user's own ve-<uid>/ left 0777, where another user put a socket: refused for its mode", async () => {
    const s = scene();
    if (!s) return;
    const dirPath = s.socket.slice(0, s.socket.lastIndexOf("/"));
    mkdirSync(dirPath);
    chmodSync(dirPath, 0o777);
    const fake = await attacker(s, s.socket, {});
    try {
      await expectRefused(s, dirPath, "0777");
    } finally {
      killQuietly(fake.pid);
    }
  });
});

describe("a socket that is not the user's", () => {
  test("a .ve/orchestrator.sock symlink to another user's listening socket: refused, naming the owner", async () => {
    const s = scene();
    if (!s) return;
    const short = project();
    chmodSync(short, 0o755);
    const theirs = join(s.runtime, "theirs", "daemon.sock");
    const fake = await attacker(s, theirs, { dirMode: "755" });
    try {
      mkdirSync(join(short, ".ve"), { mode: 0o700 });
      symlinkSync(theirs, join(short, ".ve", "orchestrator.sock"));
      for (const args of [["orch", "status"], ["orch", "work-unit", "create", "secret-plan"]]) {
        const r = await ve(short, args);
        expect({ args, code: r.code }).toEqual({ args, code: 1 });
        expect(r.stderr).toContain(join(short, ".ve", "orchestrator.sock"));
        expect(r.stderr).toContain(s.user.name);
      }
      expect(s.received()).toBe("");
    } finally {
      killQuietly(fake.pid);
    }
  });
});
