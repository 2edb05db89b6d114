import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { VeError } from "../../src/errors.ts";
import { filesWithConflictMarkers, landBranch, mergeTree } from "../../src/git/land.ts";
import { deleteMergedBranch, listWorktrees, uncommittedChanges } from "../../src/git/worktrees.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { spawnSync } from "bun";
import { gitEnvironment } from "../../src/git/git.ts";
import { TEST_GIT_IDENTITY, commitFiles, initRepo, sh } from "./support.ts";

const tempDir = useTempDirs("ve-land");

/** A repository whose `ve/x` branch (in its own worktree) adds `x.txt`. */
function repoWithUnitBranch(files: Record<string, string> = { "x.txt": "x\n" }) {
  const repo = initRepo(tempDir());
  const worktree = join(tempDir(), "wt");
  sh(repo, "worktree", "add", "-q", "-b", "ve/x", worktree, "main");
  const tip = commitFiles(worktree, files, "x: IMPLEMENT");
  return { repo, worktree, tip };
}

describe("landing a unit branch", () => {
  test("base checked out and clean: one merge commit, the checkout updated, status clean", async () => {
    const { repo, tip } = repoWithUnitBranch();
    const before = sh(repo, "rev-parse", "main");
    const result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    expect(result.kind).toBe("landed");
    if (result.kind !== "landed") return;
    expect(result.checkout).toBe(repo);
    expect(sh(repo, "rev-parse", "main")).toBe(result.commit);
    // Never a fast-forward: a merge commit whose parents are the old base and the unit's tip.
    expect(sh(repo, "rev-list", "--parents", "-n", "1", result.commit).split(" ").slice(1)).toEqual([before, tip]);
    expect(sh(repo, "log", "-1", "--format=%s", "main")).toBe("Land x");
    expect(readFileSync(join(repo, "x.txt"), "utf8")).toBe("x\n");
    expect(sh(repo, "status", "--porcelain")).toBe("");
  });

  test("base not checked out anywhere: the ref moves by compare-and-swap, no working tree is touched", async () => {
    const { repo } = repoWithUnitBranch();
    sh(repo, "checkout", "-q", "-b", "elsewhere");
    const result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    expect(result.kind).toBe("landed");
    if (result.kind !== "landed") return;
    expect(result.checkout).toBeNull();
    expect(sh(repo, "rev-parse", "main")).toBe(result.commit);
    expect(existsSync(join(repo, "x.txt"))).toBe(false);
    expect(sh(repo, "status", "--porcelain")).toBe("");
  });

  test("base checked out with staged, unstaged, untracked and ignored work elsewhere: it lands, and every byte of that work is kept", async () => {
    const { repo } = repoWithUnitBranch();
    commitFiles(repo, { ".gitignore": ".env\n", "staged.txt": "s\n" }, "ignore");
    writeFileSync(join(repo, "README.md"), "my edit\n");
    writeFileSync(join(repo, "staged.txt"), "staged edit\n");
    sh(repo, "add", "staged.txt");
    writeFileSync(join(repo, "notes.txt"), "untracked\n");
    writeFileSync(join(repo, ".env"), "SECRET=1\n");
    const result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    expect(result.kind).toBe("landed");
    expect(readFileSync(join(repo, "x.txt"), "utf8")).toBe("x\n");
    expect(readFileSync(join(repo, "README.md"), "utf8")).toBe("my edit\n");
    expect(readFileSync(join(repo, "notes.txt"), "utf8")).toBe("untracked\n");
    expect(readFileSync(join(repo, ".env"), "utf8")).toBe("SECRET=1\n");
    expect(sh(repo, "diff", "--name-only")).toBe("README.md");
    expect(sh(repo, "diff", "--cached", "--name-only")).toBe("staged.txt");
    expect(sh(repo, "ls-files", "--others", "--exclude-standard")).toBe("notes.txt");
  });

  for (const [kind, prepare] of [
    ["unstaged", (repo: string) => writeFileSync(join(repo, "README.md"), "mine\n")],
    ["staged", (repo: string) => { writeFileSync(join(repo, "README.md"), "mine\n"); sh(repo, "add", "README.md"); }],
    ["untracked", (repo: string) => writeFileSync(join(repo, "x.txt"), "mine\n")],
  ] as const) {
    test(`an ${kind} change to a path the landing writes: dirty naming it, nothing moves, the change untouched`, async () => {
      const { repo } = repoWithUnitBranch({ "x.txt": "x\n", "README.md": "theirs\n" });
      prepare(repo);
      const changed = kind === "untracked" ? "x.txt" : "README.md";
      const before = sh(repo, "rev-parse", "main");
      const result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
      expect(result).toEqual({ kind: "dirty", checkout: repo, files: [changed], ignored: [] });
      expect(sh(repo, "rev-parse", "main")).toBe(before);
      expect(readFileSync(join(repo, changed), "utf8")).toBe("mine\n");
    });
  }

  test("an ignored file the branch commits (a real .env): dirty naming it as ignored, the file untouched", async () => {
    const repo = initRepo(tempDir());
    commitFiles(repo, { ".gitignore": ".env\n" }, "ignore");
    const worktree = join(tempDir(), "wt");
    sh(repo, "worktree", "add", "-q", "-b", "ve/x", worktree, "main");
    writeFileSync(join(worktree, ".env"), "AGENT=1\n");
    sh(worktree, "add", "-f", ".env");
    sh(worktree, "commit", "-q", "-m", "env");
    writeFileSync(join(repo, ".env"), "SECRET=real\n");
    const before = sh(repo, "rev-parse", "main");
    const result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    expect(result).toEqual({ kind: "dirty", checkout: repo, files: [], ignored: [".env"] });
    expect(sh(repo, "rev-parse", "main")).toBe(before);
    expect(readFileSync(join(repo, ".env"), "utf8")).toBe("SECRET=real\n");
  });

  test("base being rebased in a checkout (HEAD detached meanwhile): nothing moves, and the rebase can finish", async () => {
    const { repo } = repoWithUnitBranch();
    commitFiles(repo, { "mine.txt": "1\n" }, "mine 1");
    commitFiles(repo, { "mine.txt": "2\n" }, "mine 2");
    // `edit` on the first pick stops the rebase there, with a clean status.
    const editor = { ...TEST_GIT_IDENTITY, GIT_SEQUENCE_EDITOR: "sed -i 1s/^pick/edit/" };
    const stopped = spawnSync(["git", "rebase", "-i", "HEAD~2"], { cwd: repo, env: gitEnvironment(editor) });
    expect(stopped.exitCode).toBe(0);
    expect(existsSync(join(repo, ".git", "rebase-merge"))).toBe(true);
    expect(sh(repo, "status", "--porcelain")).toBe("");
    const before = sh(repo, "rev-parse", "main");
    const result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    expect(result).toEqual({ kind: "busy", checkout: repo, operation: "rebase" });
    expect(sh(repo, "rev-parse", "main")).toBe(before);
    sh(repo, "rebase", "--continue");
    expect(sh(repo, "branch", "--show-current")).toBe("main");
    expect(sh(repo, "log", "-1", "--format=%s", "main")).toBe("mine 2");
  });

  test("base checked out in the middle of a merge that left nothing to commit: nothing moves", async () => {
    const { repo } = repoWithUnitBranch();
    // A side branch that adds a file and takes it away again: its merge changes nothing.
    sh(repo, "checkout", "-q", "-b", "side");
    commitFiles(repo, { "tmp.txt": "t\n" }, "add");
    sh(repo, "rm", "-q", "tmp.txt");
    sh(repo, "commit", "-q", "-m", "remove");
    sh(repo, "checkout", "-q", "main");
    sh(repo, "merge", "--no-ff", "--no-commit", "side");
    expect(sh(repo, "status", "--porcelain")).toBe("");
    expect(existsSync(join(repo, ".git", "MERGE_HEAD"))).toBe(true);
    const before = sh(repo, "rev-parse", "main");
    const result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    expect(result).toEqual({ kind: "busy", checkout: repo, operation: "merge" });
    expect(sh(repo, "rev-parse", "main")).toBe(before);
  });

  test("a person switching the checkout to a new branch feature without index.lock, as `git checkout -b` may, while the landing moves the files (PATH shim on update-ref): main holds the merge, feature stays clean at the old commit", async () => {
    const { repo } = repoWithUnitBranch();
    const before = sh(repo, "rev-parse", "main");
    const real = spawnSync(["which", "git"]).stdout.toString().trim();
    const bin = tempDir();
    writeFileSync(join(bin, "git"), `#!/bin/sh\nif [ "$1" = update-ref ]; then (cd '${repo}' && '${real}' branch feature 2>>'${bin}/log' && '${real}' symbolic-ref HEAD refs/heads/feature 2>>'${bin}/log'); fi\nexec '${real}' "$@"\n`, { mode: 0o755 });
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved}`;
    let result;
    try {
      result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    } finally {
      process.env.PATH = saved;
    }
    expect(existsSync(join(bin, "log")) ? readFileSync(join(bin, "log"), "utf8") : "").toBe("");
    expect(result.kind).toBe("landed");
    expect(sh(repo, "log", "-1", "--format=%s", "main")).toBe("Land x");
    expect(sh(repo, "branch", "--show-current")).toBe("feature");
    expect(sh(repo, "rev-parse", "feature")).toBe(before);
    expect(sh(repo, "status", "--porcelain")).toBe("");
    expect(existsSync(join(repo, "x.txt"))).toBe(false);
  });

  test("a person's `git checkout main` while the landing moves an unchecked-out main (PATH shim on update-ref): never main moved under the new checkout", async () => {
    const { repo } = repoWithUnitBranch();
    sh(repo, "checkout", "-q", "-b", "elsewhere");
    const real = spawnSync(["which", "git"]).stdout.toString().trim();
    const bin = tempDir();
    writeFileSync(join(bin, "git"), `#!/bin/sh\nif [ "$1" = update-ref ]; then (cd '${repo}' && '${real}' checkout -q main 2>/dev/null); fi\nexec '${real}' "$@"\n`, { mode: 0o755 });
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved}`;
    let result;
    try {
      result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    } finally {
      process.env.PATH = saved;
    }
    expect(result.kind).toBe("landed");
    expect(sh(repo, "log", "-1", "--format=%s", "main")).toBe("Land x");
    // Whichever branch the person ended on, its index and files are its commit's.
    expect(sh(repo, "status", "--porcelain")).toBe("");
    sh(repo, "checkout", "-q", "main");
    expect(readFileSync(join(repo, "x.txt"), "utf8")).toBe("x\n");
  });

  test("a file written where the landing adds one after the check (PATH shim on read-tree): dirty naming it, as merge attention, not an error; the file kept", async () => {
    const { repo } = repoWithUnitBranch();
    const real = spawnSync(["which", "git"]).stdout.toString().trim();
    const bin = tempDir();
    writeFileSync(join(bin, "git"), `#!/bin/sh\nif [ "$1" = read-tree ]; then echo late > '${repo}/x.txt'; fi\nexec '${real}' "$@"\n`, { mode: 0o755 });
    const before = sh(repo, "rev-parse", "main");
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved}`;
    let result;
    try {
      result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    } finally {
      process.env.PATH = saved;
    }
    expect(result).toEqual({ kind: "dirty", checkout: repo, files: ["x.txt"], ignored: [] });
    expect(sh(repo, "rev-parse", "main")).toBe(before);
    expect(readFileSync(join(repo, "x.txt"), "utf8")).toBe("late\n");
  });

  test("a user with staged, unstaged and untracked work never loses a byte across 25 landings of other files", async () => {
    const repo = initRepo(tempDir());
    commitFiles(repo, { "mine.txt": "m\n", "staged.txt": "s\n" }, "mine");
    writeFileSync(join(repo, "mine.txt"), "unstaged work\n");
    writeFileSync(join(repo, "staged.txt"), "staged work\n");
    sh(repo, "add", "staged.txt");
    writeFileSync(join(repo, "notes.txt"), "untracked work\n");
    const hashes = () => ["mine.txt", "staged.txt", "notes.txt"].map((f) => Bun.hash(readFileSync(join(repo, f))).toString()).join() + sh(repo, "ls-files", "-s", "staged.txt");
    const start = hashes();
    for (let i = 0; i < 25; i++) {
      const worktree = join(tempDir(), `wt${i}`);
      sh(repo, "worktree", "add", "-q", "-b", `ve/u${i}`, worktree, "main");
      commitFiles(worktree, { [`u${i}/f.txt`]: `${i}\n`, "shared.txt": `${i}\n` }, `u${i}`);
      const result = await landBranch({ repo, base: "main", branch: `ve/u${i}`, message: `Land u${i}` });
      expect(result.kind).toBe("landed");
      expect(hashes()).toBe(start);
    }
    expect(readFileSync(join(repo, "shared.txt"), "utf8")).toBe("24\n");
  });

  test("a clean checkout of the base that git cannot update (index.lock held) is an error naming git's reason, not a base that kept moving", async () => {
    const { repo } = repoWithUnitBranch();
    writeFileSync(join(repo, ".git", "index.lock"), "");
    const before = sh(repo, "rev-parse", "main");
    // The wait for another holder of the lock (10 s by default) cut short: the lock is never let go here.
    process.env.VE_INDEX_LOCK_WAIT_MS = "300";
    const started = performance.now();
    let landing: Promise<unknown>;
    try {
      landing = landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
      await landing.catch(() => {});
    } finally {
      delete process.env.VE_INDEX_LOCK_WAIT_MS;
    }
    // Waited for the holder first, then reported the lock.
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    await expect(landing).rejects.toThrow(/index\.lock/);
    await expect(landing).rejects.not.toThrow(/kept moving/);
    expect(sh(repo, "rev-parse", "main")).toBe(before);
  });

  for (const checkedOut of [true, false]) {
    test(`a stale refs/heads/main.lock (a git killed mid-update), main ${checkedOut ? "checked out" : "not checked out"}: an error naming the lock and the rm to run, not a base that kept moving; nothing moves`, async () => {
      const { repo } = repoWithUnitBranch();
      if (!checkedOut) sh(repo, "checkout", "-q", "-b", "elsewhere");
      const lock = join(repo, ".git", "refs", "heads", "main.lock");
      writeFileSync(lock, "");
      const before = sh(repo, "rev-parse", "main");
      const landing = landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
      await expect(landing).rejects.toThrow(/main\.lock/);
      await expect(landing).rejects.toThrow(`rm '${lock}'`);
      await expect(landing).rejects.not.toThrow(/kept moving/);
      expect(sh(repo, "rev-parse", "main")).toBe(before);
      if (checkedOut) expect(sh(repo, "status", "--porcelain")).toBe("");
    });
  }

  test("conflict markers committed on a branch are found in the files named, and only in files that hold both markers", async () => {
    const { repo, worktree } = repoWithUnitBranch({ "x.txt": "<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> main\n", "doc.md": "Title\n=======\n" });
    commitFiles(worktree, { "half.txt": "<<<<<<< not a conflict\n" }, "more");
    expect(await filesWithConflictMarkers(repo, "refs/heads/ve/x", ["x.txt", "doc.md", "half.txt", "absent.txt"])).toEqual(["x.txt"]);
  });

  test("a conflict names the files and changes nothing", async () => {
    const { repo } = repoWithUnitBranch({ "README.md": "theirs\n" });
    commitFiles(repo, { "README.md": "ours\n" }, "base edit");
    const before = sh(repo, "rev-parse", "main");
    const result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    expect(result).toEqual({ kind: "conflict", files: ["README.md"], base_commit: before });
    expect(sh(repo, "rev-parse", "main")).toBe(before);
    expect(sh(repo, "status", "--porcelain")).toBe("");
  });

  test("a branch already in the base is reported landed again without a new commit (restart after a crash)", async () => {
    const { repo } = repoWithUnitBranch();
    const first = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    const head = sh(repo, "rev-parse", "main");
    const again = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    expect(first.kind).toBe("landed");
    expect(again).toEqual({ kind: "already_landed", commit: head });
    expect(sh(repo, "rev-parse", "main")).toBe(head);
  });

  test("a base that moved since the unit branched is merged, keeping both sides", async () => {
    const { repo } = repoWithUnitBranch();
    commitFiles(repo, { "other.txt": "other\n" }, "someone else landed");
    const result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    expect(result.kind).toBe("landed");
    expect(readFileSync(join(repo, "other.txt"), "utf8")).toBe("other\n");
    expect(readFileSync(join(repo, "x.txt"), "utf8")).toBe("x\n");
  });

  test("a missing base or branch is an error, never a conflict", async () => {
    const { repo } = repoWithUnitBranch();
    await expect(landBranch({ repo, base: "nosuch", branch: "ve/x", message: "m" })).rejects.toThrow(VeError);
    await expect(landBranch({ repo, base: "main", branch: "ve/nosuch", message: "m" })).rejects.toThrow(/does not exist/);
    await expect(mergeTree(repo, "main", "nosuch")).rejects.toThrow(VeError);
  });

  test("a repository without a configured identity still lands (ve's own name)", async () => {
    const { repo } = repoWithUnitBranch();
    const saved = { ...process.env };
    for (const key of ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"]) delete process.env[key];
    process.env.HOME = tempDir();
    try {
      const result = await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
      expect(result.kind).toBe("landed");
    } finally {
      process.env = saved;
    }
  });
});

describe("worktrees and branches", () => {
  test("the porcelain list shows each worktree's branch and lock", async () => {
    const { repo, worktree } = repoWithUnitBranch();
    sh(repo, "worktree", "lock", "--reason", "ve unit x", worktree);
    const list = await listWorktrees(repo);
    expect(list.map((w) => [w.path, w.branch, w.locked])).toEqual([
      [repo, "refs/heads/main", null],
      [worktree, "refs/heads/ve/x", "ve unit x"],
    ]);
  });

  test("an unmerged branch is never deleted; a landed one is", async () => {
    const { repo, worktree } = repoWithUnitBranch();
    sh(repo, "worktree", "remove", worktree);
    expect(await deleteMergedBranch(repo, "ve/x", "main")).toBe(false);
    expect(sh(repo, "branch", "--list", "ve/x")).toContain("ve/x");
    await landBranch({ repo, base: "main", branch: "ve/x", message: "Land x" });
    sh(repo, "checkout", "-q", "-b", "elsewhere", "HEAD~1");
    expect(await deleteMergedBranch(repo, "ve/x", "main")).toBe(true);
    expect(sh(repo, "branch", "--list", "ve/x")).toBe("");
  });

  test("uncommitted changes list staged, unstaged and untracked paths", async () => {
    const repo = initRepo(tempDir());
    expect(await uncommittedChanges(repo)).toEqual([]);
    writeFileSync(join(repo, "README.md"), "changed\n");
    writeFileSync(join(repo, "new file.txt"), "x\n");
    expect((await uncommittedChanges(repo)).sort()).toEqual(["README.md", "new file.txt"]);
  });
});
