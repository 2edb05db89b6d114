// Where a project's files live (DESIGN.md "Files of one project"): which directory is the
// project, and where its socket goes when the path is long. Creating `.ve/` is in
// test/daemon/state-dir.test.ts.
import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { VeError } from "../../src/errors.ts";
import { type RootSources, SOCKET_PATH_MAX_BYTES, projectPaths, resolveProjectRoot } from "../../src/project/paths.ts";
import { thrownVeError } from "../helpers/errors.ts";
import { useTempDirs } from "../helpers/temp.ts";

const tempDir = useTempDirs("ve-paths");

/** The VeError resolveProjectRoot fails with. */
async function rootError(sources: RootSources): Promise<VeError> {
  try {
    await resolveProjectRoot(sources);
  } catch (error) {
    return thrownVeError(() => {
      throw error;
    });
  }
  throw new Error("expected a VeError, but resolveProjectRoot succeeded");
}

function mkdirs(...parts: string[]): string {
  const dir = join(...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("resolveProjectRoot: which directory is the project", () => {
  test("--project-dir wins over VE_PROJECT_DIR and over a .git above the working directory", async () => {
    const base = tempDir();
    const flag = mkdirs(base, "flag");
    const env = mkdirs(base, "env");
    const repo = mkdirs(base, "repo");
    mkdirs(repo, ".git");
    const cwd = mkdirs(repo, "src", "deep");
    expect(await resolveProjectRoot({ flag, env, cwd })).toBe(flag);
  });

  test("VE_PROJECT_DIR is used when there is no flag, even inside another project", async () => {
    const base = tempDir();
    const env = mkdirs(base, "env");
    const repo = mkdirs(base, "repo");
    mkdirs(repo, ".ve");
    const cwd = mkdirs(repo, "sub");
    expect(await resolveProjectRoot({ env, cwd })).toBe(env);
    expect(await resolveProjectRoot({ flag: undefined, env, cwd })).toBe(env);
  });

  test("an empty VE_PROJECT_DIR counts as unset; an empty --project-dir is a usage error", async () => {
    const base = tempDir();
    const cwd = mkdirs(base, "plain");
    expect(await resolveProjectRoot({ env: "", cwd })).toBe(cwd);
    for (const env of [undefined, "", cwd]) {
      const error = await rootError({ flag: "", env, cwd });
      expect(error.code).toBe("usage");
      expect(error.message).toContain("--project-dir is empty");
    }
  });

  test("without flag or variable: the nearest ancestor holding .ve/ or .git", async () => {
    const base = tempDir();
    const outer = mkdirs(base, "outer");
    mkdirs(outer, ".git");
    const inner = mkdirs(outer, "packages", "inner");
    mkdirs(inner, ".ve");
    const cwd = mkdirs(inner, "a", "b");
    // .ve in `inner` is nearer than .git in `outer`.
    expect(await resolveProjectRoot({ cwd })).toBe(inner);
    // From a sibling of `inner`, the nearest marker is outer's .git.
    expect(await resolveProjectRoot({ cwd: mkdirs(outer, "packages", "other") })).toBe(outer);
    // The working directory itself counts.
    expect(await resolveProjectRoot({ cwd: inner })).toBe(inner);
  });

  test("a .git *file* (a git worktree or submodule) marks a project too", async () => {
    const base = tempDir();
    const worktree = mkdirs(base, "wt");
    writeFileSync(join(worktree, ".git"), "gitdir: /somewhere/else\n");
    expect(await resolveProjectRoot({ cwd: mkdirs(worktree, "x", "y") })).toBe(worktree);
  });

  test("with no marker anywhere up the tree: the working directory", async () => {
    const base = tempDir();
    const cwd = mkdirs(base, "no", "marker", "here");
    // tmpdir and / carry no .ve/.git on this machine; if they did, the root would be above base.
    expect(await resolveProjectRoot({ cwd })).toBe(cwd);
  });

  test("relative --project-dir and VE_PROJECT_DIR are resolved against the working directory", async () => {
    const base = tempDir();
    const cwd = mkdirs(base, "here");
    const target = mkdirs(base, "there", "proj");
    expect(await resolveProjectRoot({ flag: "../there/proj", cwd })).toBe(target);
    expect(await resolveProjectRoot({ env: "../there/proj", cwd })).toBe(target);
    expect(await resolveProjectRoot({ flag: ".", cwd })).toBe(cwd);
  });

  test("symlinked spellings resolve to the real path: two spellings of one project, one root", async () => {
    const base = tempDir();
    const real = mkdirs(base, "real-project");
    mkdirs(real, ".git");
    const link = join(base, "link-to-project");
    symlinkSync(real, link);
    const sub = mkdirs(real, "sub");

    expect(await resolveProjectRoot({ flag: link, cwd: base })).toBe(real);
    expect(await resolveProjectRoot({ env: link, cwd: base })).toBe(real);
    expect(await resolveProjectRoot({ flag: join(real, "sub", ".."), cwd: base })).toBe(real);
    // Walking up from a cwd reached through the link finds the real project, not the link.
    expect(await resolveProjectRoot({ cwd: join(link, "sub") })).toBe(real);
    expect(await resolveProjectRoot({ cwd: sub })).toBe(real);
    expect(projectPaths(await resolveProjectRoot({ flag: link, cwd: base })).socket).toBe(
      projectPaths(await resolveProjectRoot({ cwd: sub })).socket,
    );
  });

  test("leaves the process's working directory as it was, on success and on failure", async () => {
    const base = tempDir();
    const before = process.cwd();
    const target = mkdirs(base, "somewhere");
    mkdirs(target, ".git");
    await resolveProjectRoot({ flag: target, cwd: base });
    await resolveProjectRoot({ cwd: mkdirs(target, "deeper") });
    expect(process.cwd()).toBe(before);
    await rootError({ flag: join(base, "missing"), cwd: base });
    expect(process.cwd()).toBe(before);
  });

  test("a missing --project-dir is a usage error naming the path and its source", async () => {
    const base = tempDir();
    const missing = join(base, "does-not-exist");
    const error = await rootError({ flag: missing, cwd: base });
    expect(error.code).toBe("usage");
    expect(error.message).toContain(missing);
    expect(error.message).toContain("--project-dir");
  });

  test("a missing VE_PROJECT_DIR is a usage error naming the path and the variable", async () => {
    const base = tempDir();
    const missing = join(base, "gone");
    const error = await rootError({ env: missing, cwd: base });
    expect(error.code).toBe("usage");
    expect(error.message).toContain(missing);
    expect(error.message).toContain("VE_PROJECT_DIR");
  });

  test("a --project-dir that is a file is a usage error naming the path", async () => {
    const base = tempDir();
    const file = join(base, "a-file");
    writeFileSync(file, "x");
    const error = await rootError({ flag: file, cwd: base });
    expect(error.code).toBe("usage");
    expect(error.message).toContain(file);
    expect(error.message).toContain("not a directory");
  });

  test("a relative missing flag is a usage error naming it", async () => {
    const base = tempDir();
    const error = await rootError({ flag: "nope/deeper", cwd: base });
    expect(error.code).toBe("usage");
    expect(error.message).toContain("nope/deeper");
  });
});

describe("projectPaths: where each file goes", () => {
  const savedXdg = process.env.XDG_RUNTIME_DIR;
  afterEach(() => {
    if (savedXdg === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = savedXdg;
  });

  const uid = process.getuid?.() ?? 0;
  const digest16 = (root: string) => createHash("sha256").update(root).digest("hex").slice(0, 16);
  /** A root whose `.ve/orchestrator.sock` is exactly `bytes` bytes long. */
  const rootWithSocketBytes = (base: string, bytes: number) => {
    const suffix = "/.ve/orchestrator.sock".length;
    const padding = bytes - suffix - base.length - 1;
    if (padding < 1) throw new Error("temp dir too long for this test");
    return join(base, "p".repeat(padding));
  };

  test("every file sits in <root>/.ve/ when the path is short", async () => {
    const root = tempDir();
    const paths = projectPaths(root);
    expect(paths.root).toBe(root);
    expect(paths.stateDir).toBe(join(root, ".ve"));
    expect(paths.db).toBe(join(root, ".ve", "orchestrator.db"));
    expect(paths.pid).toBe(join(root, ".ve", "orchestrator.pid"));
    expect(paths.log).toBe(join(root, ".ve", "orchestrator.log"));
    expect(paths.socket).toBe(join(root, ".ve", "orchestrator.sock"));
    expect(paths.socketInRuntimeDir).toBe(false);
    expect(paths.port).toBe(join(root, ".ve", "orchestrator.port"));
    expect(paths.token).toBe(join(root, ".ve", "orchestrator.token"));
  });

  test("a socket path of exactly 100 bytes stays in .ve/; 101 bytes moves to $XDG_RUNTIME_DIR/ve-<uid>/", async () => {
    const base = tempDir();
    const runtime = mkdirs(tempDir(), "run");
    process.env.XDG_RUNTIME_DIR = runtime;

    const fits = rootWithSocketBytes(base, SOCKET_PATH_MAX_BYTES);
    expect(Buffer.byteLength(join(fits, ".ve", "orchestrator.sock"))).toBe(100);
    expect(projectPaths(fits).socket).toBe(join(fits, ".ve", "orchestrator.sock"));
    expect(projectPaths(fits).socketInRuntimeDir).toBe(false);

    const long = rootWithSocketBytes(base, SOCKET_PATH_MAX_BYTES + 1);
    const paths = projectPaths(long);
    expect(paths.socketInRuntimeDir).toBe(true);
    expect(paths.socket).toBe(join(runtime, `ve-${uid}`, `${digest16(long)}.sock`));
    expect(paths.socket).toMatch(/\/[0-9a-f]{16}\.sock$/);
    // Everything else still lives in the project.
    expect(paths.stateDir).toBe(join(long, ".ve"));
    expect(paths.db).toBe(join(long, ".ve", "orchestrator.db"));
    expect(paths.pid).toBe(join(long, ".ve", "orchestrator.pid"));
  });

  test("the limit counts bytes, not characters", async () => {
    const base = tempDir();
    process.env.XDG_RUNTIME_DIR = mkdirs(tempDir(), "run");
    // 'é' is two bytes: few enough characters for 100, too many bytes.
    const chars = SOCKET_PATH_MAX_BYTES - "/.ve/orchestrator.sock".length - base.length - 1;
    const root = join(base, "é".repeat(Math.ceil(chars / 2) + 1));
    expect(join(root, ".ve", "orchestrator.sock").length).toBeLessThanOrEqual(SOCKET_PATH_MAX_BYTES);
    expect(projectPaths(root).socketInRuntimeDir).toBe(true);
  });

  test("without XDG_RUNTIME_DIR (unset or empty) the long-path socket goes to /tmp/ve-<uid>/", async () => {
    const long = rootWithSocketBytes(tempDir(), 150);
    delete process.env.XDG_RUNTIME_DIR;
    expect(projectPaths(long).socket).toBe(`/tmp/ve-${uid}/${digest16(long)}.sock`);
    process.env.XDG_RUNTIME_DIR = "";
    expect(projectPaths(long).socket).toBe(`/tmp/ve-${uid}/${digest16(long)}.sock`);
  });

  test("different long projects get different socket names; one project always the same", async () => {
    const base = tempDir();
    process.env.XDG_RUNTIME_DIR = mkdirs(tempDir(), "run");
    const a = rootWithSocketBytes(base, 140);
    const b = `${a.slice(0, -1)}q`;
    expect(projectPaths(a).socket).not.toBe(projectPaths(b).socket);
    expect(projectPaths(a).socket).toBe(projectPaths(a).socket);
  });

  test("the runtime socket's name hashes the real path: a symlinked spelling reaches the same socket", async () => {
    const base = tempDir();
    process.env.XDG_RUNTIME_DIR = mkdirs(tempDir(), "run");
    const real = mkdirs(rootWithSocketBytes(base, 130));
    const link = join(base, "l");
    symlinkSync(real, link);
    const viaLink = projectPaths(await resolveProjectRoot({ flag: link, cwd: base }));
    const direct = projectPaths(await resolveProjectRoot({ cwd: real }));
    expect(direct.socketInRuntimeDir).toBe(true);
    expect(viaLink.socket).toBe(direct.socket);
    expect(viaLink.socket).toContain(digest16(real));
  });
});
