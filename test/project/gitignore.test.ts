// `.ve/.gitignore` holds `*`, so `git add -A` never stages the state. A start checks and repairs
// it every time: one left empty or changed (a start on a full disk used to leave it empty) is
// rewritten, and the write can never leave an empty file behind.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectPaths } from "../../src/project/paths.ts";
import { ensureStateDir } from "../../src/project/state-dir.ts";
import { thrownVeError } from "../helpers/errors.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { useTmpfs } from "../helpers/tmpfs.ts";

const mountTmpfs = useTmpfs();
const tempDir = useTempDirs("ve-gitignore");

describe(".ve/.gitignore is checked and repaired at every start", () => {
  for (const [label, content] of [
    ["empty", ""],
    ["a truncated write", "\n"],
    ["another pattern", "*.db\n"],
    ["a negation after *", "*\n!orchestrator.db\n"],
    ["whitespace only", "   \n"],
  ] as const) {
    test(`${label} is rewritten to *`, () => {
      const paths = projectPaths(tempDir());
      ensureStateDir(paths);
      const file = join(paths.stateDir, ".gitignore");
      writeFileSync(file, content);
      ensureStateDir(paths);
      expect(readFileSync(file, "utf8")).toBe("*\n");
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // Nothing left beside it.
      expect(Bun.spawnSync(["ls", "-A", paths.stateDir]).stdout.toString().trim().split("\n")).toEqual([".gitignore"]);
    });
  }

  test("a correct one is left as it is (not rewritten)", () => {
    const paths = projectPaths(tempDir());
    ensureStateDir(paths);
    const file = join(paths.stateDir, ".gitignore");
    const before = statSync(file);
    ensureStateDir(paths);
    expect(statSync(file).ino).toBe(before.ino);
  });

  test("a .gitignore that is a directory is refused with a VeError naming it", () => {
    const paths = projectPaths(tempDir());
    ensureStateDir(paths);
    const file = join(paths.stateDir, ".gitignore");
    rmSync(file);
    mkdirSync(file);
    const error = thrownVeError(() => ensureStateDir(paths));
    expect(error.message).toContain(file);
  });

  test("on a full disk: a typed error naming the file, never an empty .gitignore; repaired once there is room", () => {
    const fs = mountTmpfs(256 * 1024);
    if (typeof fs === "string") {
      console.log(`skipped: ${fs}`);
      return;
    }
    const root = join(fs.dir, "project");
    mkdirSync(root);
    const paths = projectPaths(root);
    const filler = fs.fill();
    const error = thrownVeError(() => ensureStateDir(paths));
    expect(error.code).toBe("storage_full");
    expect(error.message).toContain(join(paths.stateDir, ".gitignore"));
    const file = join(paths.stateDir, ".gitignore");
    // Absent is fine (the next start writes it); empty is the bug.
    if (existsSync(file)) expect(readFileSync(file, "utf8")).toBe("*\n");
    rmSync(filler);
    ensureStateDir(paths);
    expect(readFileSync(file, "utf8")).toBe("*\n");
  });
});
