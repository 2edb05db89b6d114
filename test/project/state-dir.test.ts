// The private state directory (DESIGN.md "Files of one project": `<project>/.ve/`, created
// 0700, with a `.gitignore` holding `*`; the per-user socket directory for long project paths
// is 0700 too and must not be a symlink or someone else's).
import { describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir, ensureStateDir } from "../../src/project/state-dir.ts";
import { projectPaths } from "../../src/project/paths.ts";
import { thrownVeError } from "../helpers/errors.ts";
import { useTempDirs } from "../helpers/temp.ts";

/** Giving a directory to another user needs root; elsewhere that test skips, saying so. */
const IS_ROOT = process.getuid?.() === 0;
if (!IS_ROOT) console.log("state-dir: the test of another user's directory skipped: chown needs root");

const tempDir = useTempDirs("ve-state-dir");

function mkdirs(...parts: string[]): string {
  const dir = join(...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("ensureStateDir / ensurePrivateDir: a directory only this user can enter", () => {
  test("creates .ve 0700 with a .gitignore holding *", async () => {
    const root = tempDir();
    const paths = projectPaths(root);
    const saved = process.umask(0o022);
    try {
      ensureStateDir(paths);
    } finally {
      process.umask(saved);
    }
    const info = statSync(paths.stateDir);
    expect(info.isDirectory()).toBe(true);
    expect(info.mode & 0o777).toBe(0o700);
    expect(readFileSync(join(paths.stateDir, ".gitignore"), "utf8")).toBe("*\n");
  });

  test("under umask 000 the directory is still 0700", async () => {
    const paths = projectPaths(tempDir());
    const saved = process.umask(0);
    try {
      ensureStateDir(paths);
    } finally {
      process.umask(saved);
    }
    expect(statSync(paths.stateDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(paths.stateDir, ".gitignore")).mode & 0o077).toBe(0);
  });

  test("tightens a pre-existing 0755 .ve to 0700 and keeps what it holds", async () => {
    const root = tempDir();
    const paths = projectPaths(root);
    mkdirSync(paths.stateDir);
    chmodSync(paths.stateDir, 0o755);
    writeFileSync(paths.db, "data");
    ensureStateDir(paths);
    expect(statSync(paths.stateDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(paths.db, "utf8")).toBe("data");
    expect(readFileSync(join(paths.stateDir, ".gitignore"), "utf8")).toBe("*\n");
  });

  test("is idempotent", async () => {
    const paths = projectPaths(tempDir());
    ensureStateDir(paths);
    ensureStateDir(paths);
    expect(statSync(paths.stateDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(paths.stateDir, ".gitignore"), "utf8")).toBe("*\n");
  });

  test("ensurePrivateDir creates missing parents (the runtime socket dir)", async () => {
    const dir = join(tempDir(), "run", "ve-0");
    ensurePrivateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  test("refuses a symlink, even to a directory of ours, with unsafe_path naming it", async () => {
    const base = tempDir();
    const target = mkdirs(base, "target");
    const link = join(base, "ve-link");
    symlinkSync(target, link);
    const error = thrownVeError(() => ensurePrivateDir(link));
    expect(error.code).toBe("unsafe_path");
    expect(error.message).toContain(link);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  test("refuses a .ve that is a symlink (ensureStateDir)", async () => {
    const base = tempDir();
    const root = mkdirs(base, "proj");
    const elsewhere = mkdirs(base, "elsewhere");
    symlinkSync(elsewhere, join(root, ".ve"));
    const error = thrownVeError(() => ensureStateDir(projectPaths(root)));
    expect(error.code).toBe("unsafe_path");
    expect(existsSync(join(elsewhere, ".gitignore"))).toBe(false);
  });

  test.skipIf(!IS_ROOT)("refuses a directory owned by another user, and leaves its mode alone", async () => {
    const dir = mkdirs(tempDir(), "someone-elses");
    chmodSync(dir, 0o777);
    chownSync(dir, 65534, 65534);
    const error = thrownVeError(() => ensurePrivateDir(dir));
    expect(error.code).toBe("unsafe_path");
    expect(error.message).toContain(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o777);
  });

  test("refuses a regular file at the path", async () => {
    const file = join(tempDir(), "not-a-dir");
    writeFileSync(file, "x");
    const error = thrownVeError(() => ensurePrivateDir(file));
    expect(error.code).toBe("unsafe_path");
    expect(error.message).toContain(file);
  });

  test("a path under a file cannot be created: io_failed naming it", async () => {
    const file = join(tempDir(), "file");
    writeFileSync(file, "x");
    const dir = join(file, "sub");
    const error = thrownVeError(() => ensurePrivateDir(dir));
    expect(error.code).toBe("io_failed");
    expect(error.message).toContain(dir);
  });
});
