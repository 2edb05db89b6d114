// Errors about the system's state name the path and the real cause, never "this is a bug"
// (issue 9 item 14): permission denied on `.ve/` or its files, an existing read-only database,
// a read-only file system. Permission tests run as a second, unprivileged user (root is never
// denied); the read-only file system is a tmpfs of the test's own, remounted read-only.
import { describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useTmpfs } from "../helpers/tmpfs.ts";
import { type OtherUser, useOtherUser } from "../helpers/users.ts";
import { VE, run, useProjects } from "./harness.ts";

const { project, track, ve } = useProjects("ve-file-errors");
const otherUser = useOtherUser("ve-owner");
const mountTmpfs = useTmpfs();

/** A project owned by the other user, who runs ve in it. */
function ownedProject(): { user: OtherUser; dir: string } | undefined {
  const user = otherUser();
  if (typeof user === "string") {
    console.log(`skipped: ${user}`);
    return undefined;
  }
  const base = project();
  chmodSync(base, 0o755);
  const dir = track(join(base, "theirs"));
  mkdirSync(dir);
  chownSync(dir, user.uid, user.gid);
  return { user, dir };
}

function asUser(user: OtherUser, dir: string, args: string[]) {
  return run(user.argv([user.runnable(VE), ...args, "--project-dir", dir]));
}

function expectNamedCause(r: { code: number; stderr: string }, path: string, cause: string) {
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 1 });
  expect(r.stderr).toContain(path);
  expect(r.stderr).toContain(cause);
  expect(r.stderr).not.toContain("bug");
}

describe("permission denied, as an unprivileged user", () => {
  test("a project directory the user cannot write: .ve cannot be created, and why", async () => {
    const p = ownedProject();
    if (!p) return;
    chmodSync(p.dir, 0o555);
    const r = await asUser(p.user, p.dir, ["orch", "start"]);
    expectNamedCause(r, join(p.dir, ".ve"), "permission denied");
    expect(r.stderr).toContain("0555");
  });

  test("a log file the user cannot write: named with its mode, not a bug", async () => {
    const p = ownedProject();
    if (!p) return;
    const state = join(p.dir, ".ve");
    mkdirSync(state, { mode: 0o700 });
    writeFileSync(join(state, "orchestrator.log"), "", { mode: 0o400 });
    chownSync(state, p.user.uid, p.user.gid);
    chownSync(join(state, "orchestrator.log"), p.user.uid, p.user.gid);
    const r = await asUser(p.user, p.dir, ["orch", "start"]);
    expectNamedCause(r, join(state, "orchestrator.log"), "permission denied");
    expect(r.stderr).toContain("0400");
  });

  test("an existing read-only database is reported as not writable, not as 'cannot be created'", async () => {
    const p = ownedProject();
    if (!p) return;
    // A real database, made by a first start and stop.
    expect((await asUser(p.user, p.dir, ["orch", "start"])).code).toBe(0);
    expect((await asUser(p.user, p.dir, ["orch", "stop"])).code).toBe(0);
    const db = join(p.dir, ".ve", "orchestrator.db");
    chmodSync(db, 0o400);
    const r = await asUser(p.user, p.dir, ["orch", "start"]);
    expectNamedCause(r, db, "permission denied");
    expect(r.stderr).toContain("0400");
    expect(r.stderr).not.toContain("cannot be created");
  });
});

describe("a read-only file system", () => {
  test("start on a project whose disk is mounted read-only names the read-only file system", async () => {
    const fs = mountTmpfs(1024 * 1024);
    if (typeof fs === "string") {
      console.log(`skipped: ${fs}`);
      return;
    }
    const dir = track(join(fs.dir, "project"));
    mkdirSync(join(dir, ".ve"), { recursive: true, mode: 0o700 });
    const remount = Bun.spawnSync(["mount", "-o", "remount,ro", fs.dir], { stderr: "pipe" });
    if (remount.exitCode !== 0) {
      console.log(`skipped: cannot remount read-only: ${remount.stderr.toString().trim()}`);
      return;
    }
    try {
      const r = await ve(dir, ["orch", "start"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(join(dir, ".ve"));
      expect(r.stderr).toContain("read-only");
      expect(r.stderr).not.toContain("bug");
    } finally {
      Bun.spawnSync(["mount", "-o", "remount,rw", fs.dir]);
    }
  });
});

describe("a working directory the user cannot enter", () => {
  test("commands with --project-dir still work from it (a sudo'd shell in root's home, a clone under a 0700 directory)", async () => {
    const p = ownedProject();
    if (!p) return;
    const closed = project();
    chmodSync(closed, 0o700);
    const started = await run(p.user.argv([p.user.runnable(VE), "orch", "start", "--project-dir", p.dir]), { cwd: closed });
    expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: "" });
    const status = await run(p.user.argv([p.user.runnable(VE), "orch", "status", "--project-dir", p.dir]), { cwd: closed });
    expect(status.code).toBe(0);
    expect(status.stderr).not.toContain("bug");
    expect((await run(p.user.argv([p.user.runnable(VE), "orch", "stop", "--project-dir", p.dir]), { cwd: closed })).code).toBe(0);
  });
});
