// The files of `.ve/` are never opened through a link, and a `.ve/` that is a link, a file or
// someone else's is refused with a message naming it (issue 9 item 2): a cloned repository can
// carry a committed `.ve/` whose files point at `~/.bashrc` or, for root, at `/etc`.
import { describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { useTempDirs } from "../helpers/temp.ts";
import { useProjects } from "./harness.ts";

const { project, ve } = useProjects("ve-state-files");
const tempDir = useTempDirs("ve-victim");
/** Giving a directory to another user needs root; elsewhere that test skips, saying so. */
const IS_ROOT = process.getuid?.() === 0;
if (!IS_ROOT) console.log("state-files: the test of a .ve owned by another user skipped: chown needs root");

const PRECIOUS = "precious content, must never change\n";

/** A file outside the project that a planted link points at. */
function victim(): string {
  const path = join(tempDir(), "victim");
  writeFileSync(path, PRECIOUS, { mode: 0o644 });
  return path;
}

/** A project whose `.ve/<name>` is a symlink to a victim file. */
function plantedLink(name: string): { dir: string; target: string; link: string } {
  const dir = project();
  mkdirSync(join(dir, ".ve"), { mode: 0o700 });
  const target = victim();
  const link = join(dir, ".ve", name);
  symlinkSync(target, link);
  return { dir, target, link };
}

describe("a state file that is a symlink is refused, and its target never touched", () => {
  for (const name of [
    "orchestrator.pid",
    "orchestrator.log",
    "orchestrator.db",
    "orchestrator.db-wal",
    "orchestrator.db-shm",
    "orchestrator.db-journal",
  ]) {
    test(`.ve/${name} -> a file elsewhere: start and stop refuse it, naming it`, async () => {
      const { dir, target, link } = plantedLink(name);
      const start = await ve(dir, ["orch", "start"]);
      expect(start.code).not.toBe(0);
      expect(start.stderr).toContain(link);
      expect(start.stderr).toContain("symbolic link");
      const stop = await ve(dir, ["orch", "stop"]);
      expect(readFileSync(target, "utf8")).toBe(PRECIOUS);
      if (name === "orchestrator.pid") {
        expect(stop.code).not.toBe(0);
        expect(stop.stderr).toContain(link);
      }
      // And `status` neither follows it nor pretends all is well.
      await ve(dir, ["orch", "status"]);
      expect(readFileSync(target, "utf8")).toBe(PRECIOUS);
    });
  }

  test("ve orch logs does not print what a .ve/orchestrator.log link points at", async () => {
    const { dir, target, link } = plantedLink("orchestrator.log");
    const logs = await ve(dir, ["orch", "logs"]);
    expect(logs.stdout).not.toContain("precious");
    expect(logs.code).not.toBe(0);
    expect(logs.stderr).toContain(link);
    expect(readFileSync(target, "utf8")).toBe(PRECIOUS);
  });

  test("a .ve/orchestrator.token link is never read, so its target is never sent as a token", async () => {
    const { dir, target, link } = plantedLink("orchestrator.token");
    const seen: string[] = [];
    const listener = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        seen.push(request.headers.get("authorization") ?? "");
        return Response.json({ work_units: [] });
      },
    });
    try {
      writeFileSync(join(dir, ".ve", "orchestrator.port"), `${listener.port}\n`, { mode: 0o600 });
      const ps = await ve(dir, ["orch", "ps", "--json"]);
      expect(seen.filter((header) => header.includes("precious"))).toEqual([]);
      expect(ps.code).not.toBe(0);
      expect(ps.stdout).toContain(link);
      expect(readFileSync(target, "utf8")).toBe(PRECIOUS);
    } finally {
      listener.stop(true);
    }
  });
});

describe("the .ve directory itself", () => {
  test("a .ve that is a symlink is refused: nothing is created where it points", async () => {
    const dir = project();
    const elsewhere = tempDir();
    symlinkSync(elsewhere, join(dir, ".ve"));
    const start = await ve(dir, ["orch", "start"]);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(join(dir, ".ve"));
    expect(start.stderr).toContain("symbolic link");
    expect(readdirSync(elsewhere)).toEqual([]);
    // stop and status neither create a lock file nor remove anything where it points.
    writeFileSync(join(elsewhere, "orchestrator.port"), "4242\n");
    for (const args of [["orch", "stop"], ["orch", "status"]]) {
      const r = await ve(dir, args);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr + r.stdout).toContain(join(dir, ".ve"));
    }
    expect(readdirSync(elsewhere)).toEqual(["orchestrator.port"]);
  });

  test.skipIf(!IS_ROOT)("a .ve owned by another user is refused, naming the owner", async () => {
    const dir = project();
    const state = join(dir, ".ve");
    mkdirSync(state, { mode: 0o700 });
    chownSync(state, 65534, 65534);
    const start = await ve(dir, ["orch", "start"]);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(state);
    expect(start.stderr).toContain("uid 65534");
    expect(readdirSync(state)).toEqual([]);
  });

  test("a .ve that is a plain file is named as such by start and by every other command", async () => {
    const dir = project();
    writeFileSync(join(dir, ".ve"), "not a directory\n");
    const start = await ve(dir, ["orch", "start"]);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(`${join(dir, ".ve")}`);
    expect(start.stderr).toContain("not a directory");
    expect(start.stderr).not.toContain("bug");
    const ps = await ve(dir, ["orch", "ps"]);
    expect(ps.stderr).toContain(join(dir, ".ve"));
    expect(ps.stderr).toContain("not a directory");
    expect(ps.stderr).not.toContain("stale");
    expect(ps.stderr).not.toContain("bug");
    expect(readFileSync(join(dir, ".ve"), "utf8")).toBe("not a directory\n");
  });

  test("a 0500 .ve is reported, not silently made writable again", async () => {
    const dir = project();
    const state = join(dir, ".ve");
    mkdirSync(state, { mode: 0o700 });
    chmodSync(state, 0o500);
    const start = await ve(dir, ["orch", "start"]);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(state);
    expect(start.stderr).toContain("0500");
    expect(start.stderr).not.toContain("bug");
    expect((await Bun.file(state).stat()).mode & 0o777).toBe(0o500);
    expect(existsSync(join(state, "orchestrator.db"))).toBe(false);
  });
});
