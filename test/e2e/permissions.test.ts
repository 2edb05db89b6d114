// Nothing of a project's state is readable by other users: `.ve/` 0700, its files 0600,
// whatever the umask of the shell that ran `ve`.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { PROCESS_SOURCE, umaskOf } from "../helpers/processes.ts";
import { VE, modeOf, run, stateFiles, useProjects } from "./harness.ts";

if (PROCESS_SOURCE !== "proc") console.log("umask test skipped: only Linux's /proc tells another process's umask");

const { project, ve } = useProjects("ve-perm");

/** Runs `ve args` through a shell with `umask mask` (the harness cannot set a child's umask). */
function veWithUmask(mask: string, dir: string, args: string[]) {
  const quoted = [...args, "--project-dir", dir].map((a) => `'${a}'`).join(" ");
  return run(["bash", "-c", `umask ${mask}; exec '${VE}' ${quoted}`]);
}

/** Every file in `.ve/` with its mode, after some writes so -wal and -shm exist too. */
function modes(dir: string): Record<string, string> {
  const state = stateFiles(dir).state;
  return Object.fromEntries(readdirSync(state).map((name) => [name, modeOf(join(state, name)).toString(8)]));
}

async function checkPrivate(dir: string, mask: string): Promise<void> {
  const files = stateFiles(dir);
  const start = await veWithUmask(mask, dir, ["orch", "start"]);
  expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: "" });
  // Writes create the -wal and -shm files; the log grows.
  expect((await veWithUmask(mask, dir, ["orch", "work-unit", "create", "x"])).code).toBe(0);
  expect((await veWithUmask(mask, dir, ["orch", "work-unit", "status", "x", "RUNNING"])).code).toBe(0);

  expect(modeOf(files.state)).toBe(0o700);
  expect(readFileSync(files.gitignore, "utf8").trim()).toBe("*");
  expect(statSync(files.socket).isSocket()).toBe(true);
  for (const file of [files.socket, files.db, files.log, files.pid, files.gitignore]) {
    expect({ file, mode: modeOf(file).toString(8) }).toEqual({ file, mode: "600" });
  }
  // Whatever else is there (-wal, -shm) is private too.
  for (const [name, mode] of Object.entries(modes(dir))) expect({ name, mode }).toEqual({ name, mode: "600" });
  expect(Object.keys(modes(dir))).toContain("orchestrator.db-wal");

  // After a restart under the same umask (log appended, db reopened) nothing widened.
  expect((await veWithUmask(mask, dir, ["orch", "stop"])).code).toBe(0);
  expect((await veWithUmask(mask, dir, ["orch", "start"])).code).toBe(0);
  expect(modeOf(files.state)).toBe(0o700);
  for (const [name, mode] of Object.entries(modes(dir))) expect({ name, mode }).toEqual({ name, mode: "600" });
}

describe("file permissions", () => {
  test("with umask 000: .ve/ is 0700, socket, db, log, pid are 0600, .gitignore holds *", async () => {
    await checkPrivate(project(), "000");
  });

  test("with the common umask 022 as well", async () => {
    await checkPrivate(project(), "022");
  });

  test("a pre-existing world-readable .ve/ is made private on start", async () => {
    const dir = project();
    mkdirSync(join(dir, ".ve"));
    chmodSync(join(dir, ".ve"), 0o755);
    const start = await veWithUmask("000", dir, ["orch", "start"]);
    expect(start.code).toBe(0);
    expect(modeOf(join(dir, ".ve"))).toBe(0o700);
    expect(existsSync(stateFiles(dir).gitignore)).toBe(true);
  });

  // Only Linux tells another process's umask (/proc/<pid>/status); the file modes above prove it too.
  test.skipIf(PROCESS_SOURCE !== "proc")("the daemon runs with umask 077 even when started under umask 000", async () => {
    const dir = project();
    expect((await veWithUmask("000", dir, ["orch", "start"])).code).toBe(0);
    const pid = Number.parseInt(readFileSync(stateFiles(dir).pid, "utf8"), 10);
    expect(umaskOf(pid)).toBe("0077");
    expect((await ve(dir, ["orch", "status"])).code).toBe(0);
  });
});
