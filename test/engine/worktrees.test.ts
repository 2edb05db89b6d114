import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { commitIdentity } from "../../src/git/land.ts";
import { listWorktrees } from "../../src/git/worktrees.ts";
import { commitWorktree, ensureUnitWorktree, removeUnitWorktree } from "../../src/engine/worktrees.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { gitEnvironment } from "../../src/git/git.ts";
import { TEST_GIT_IDENTITY, commitFiles, initRepo, sh, writeFile } from "../git/support.ts";

const tempDir = useTempDirs("ve-unit-wt");

function project() {
  const repo = initRepo(tempDir());
  writeFile(repo, ".gitignore", ".ve/\n.env\nconfig/*.local\nbuild/\n");
  commitFiles(repo, { ".worktreeinclude": ".env\nconfig/*.local\n" });
  return { repo, stateDir: join(repo, ".ve") };
}

describe("unit worktrees", () => {
  test("the first run makes ve/<chunk> from the base head and a locked worktree at .ve/worktrees/<chunk>", async () => {
    const { repo, stateDir } = project();
    const head = sh(repo, "rev-parse", "main");
    const wt = await ensureUnitWorktree(repo, stateDir, "", "a", "main");
    expect(wt).toMatchObject({ path: join(stateDir, "worktrees", "a"), branch: "ve/a", createdFrom: head });
    const listed = (await listWorktrees(repo)).find((w) => w.path === wt.path);
    expect(listed?.branch).toBe("refs/heads/ve/a");
    expect(listed?.locked).toContain("unit a");
    // The user's checkout is untouched.
    expect(sh(repo, "branch", "--show-current")).toBe("main");
    expect(sh(repo, "status", "--porcelain")).toBe("");
  });

  test(".worktreeinclude copies the ignored files it names, keeping their modes, and nothing else", async () => {
    const { repo, stateDir } = project();
    writeFile(repo, ".env", "SECRET=1\n");
    chmodSync(join(repo, ".env"), 0o600);
    writeFile(repo, "config/db.local", "db\n");
    writeFile(repo, "build/out.bin", "big\n");
    const wt = await ensureUnitWorktree(repo, stateDir, "", "a", "main");
    expect(wt.included.sort()).toEqual([".env", "config/db.local"]);
    expect(readFileSync(join(wt.path, ".env"), "utf8")).toBe("SECRET=1\n");
    expect(statSync(join(wt.path, ".env")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(wt.path, "build/out.bin"))).toBe(false);
  });

  test(".worktreeinclude copies only files git ignores: one it does not ignore would be committed with the agent's work", async () => {
    const { repo, stateDir } = project();
    commitFiles(repo, { ".worktreeinclude": ".env\nsecrets.txt\n" });
    writeFile(repo, ".env", "SECRET=1\n");
    writeFile(repo, "secrets.txt", "API_KEY=hunter2\n");
    const wt = await ensureUnitWorktree(repo, stateDir, "", "a", "main");
    expect(wt.included).toEqual([".env"]);
    expect(wt.notIncluded).toEqual(["secrets.txt"]);
    expect(existsSync(join(wt.path, "secrets.txt"))).toBe(false);
    expect(await commitWorktree(wt.path, "ve/a", "a: IMPLEMENT", await commitIdentity(repo))).toBeNull();
  });

  test("a worktree deleted by hand comes back from its branch with the committed work", async () => {
    const { repo, stateDir } = project();
    const wt = await ensureUnitWorktree(repo, stateDir, "", "a", "main");
    writeFileSync(join(wt.path, "work.txt"), "done\n");
    expect(await commitWorktree(wt.path, "ve/a", "a: IMPLEMENT", await commitIdentity(repo))).not.toBeNull();
    rmSync(wt.path, { recursive: true, force: true });
    const again = await ensureUnitWorktree(repo, stateDir, "", "a", "main");
    expect(again.createdFrom).toBeNull();
    expect(readFileSync(join(again.path, "work.txt"), "utf8")).toBe("done\n");
  });

  test("a locked worktree deleted by hand is listed as gone (git itself reports only unlocked ones prunable)", async () => {
    const { repo, stateDir } = project();
    const wt = await ensureUnitWorktree(repo, stateDir, "", "a", "main");
    expect((await listWorktrees(repo)).find((w) => w.path === wt.path)?.prunable).toBeNull();
    rmSync(wt.path, { recursive: true, force: true });
    const listed = (await listWorktrees(repo)).find((w) => w.path === wt.path);
    expect(listed?.locked).toContain("unit a");
    expect(listed?.prunable).not.toBeNull();
  });

  test("an existing branch of that name is used as it is, not reset", async () => {
    const { repo, stateDir } = project();
    sh(repo, "branch", "ve/a");
    sh(repo, "checkout", "-q", "ve/a");
    const tip = commitFiles(repo, { "earlier.txt": "x\n" });
    sh(repo, "checkout", "-q", "main");
    const wt = await ensureUnitWorktree(repo, stateDir, "", "a", "main");
    expect(wt.createdFrom).toBeNull();
    expect(sh(wt.path, "rev-parse", "HEAD")).toBe(tip);
  });

  test("a worktree the agent moved off its branch is not committed: the work stays there, and the error says how to go on", async () => {
    const { repo, stateDir } = project();
    const wt = await ensureUnitWorktree(repo, stateDir, "", "a", "main");
    const tip = sh(wt.path, "rev-parse", "HEAD");
    for (const move of [["switch", "-q", "--detach"], ["switch", "-q", "-c", "elsewhere"]]) {
      sh(wt.path, ...move);
      writeFileSync(join(wt.path, "work.txt"), "mine\n");
      const refused = commitWorktree(wt.path, "ve/a", "a: IMPLEMENT", await commitIdentity(repo));
      await expect(refused).rejects.toThrow(/ve\/a/);
      await expect(refused).rejects.toThrow(/switch/);
      expect(readFileSync(join(wt.path, "work.txt"), "utf8")).toBe("mine\n");
      expect(sh(repo, "rev-parse", "ve/a")).toBe(tip);
      sh(wt.path, "switch", "-q", "ve/a");
    }
    expect(await commitWorktree(wt.path, "ve/a", "a: IMPLEMENT", await commitIdentity(repo))).not.toBeNull();
  });

  test("a worktree whose .git file the agent deleted is not committed, and the user's staged change stays uncommitted", async () => {
    const { repo, stateDir } = project();
    const wt = await ensureUnitWorktree(repo, stateDir, "", "a", "main");
    writeFile(repo, "mine.txt", "staged by the user\n");
    sh(repo, "add", "mine.txt");
    const head = sh(repo, "rev-parse", "main");
    rmSync(join(wt.path, ".git"));
    writeFileSync(join(wt.path, "work.txt"), "agent\n");
    await expect(commitWorktree(wt.path, "ve/a", "a: IMPLEMENT", await commitIdentity(repo))).rejects.toThrow(/\.git file is gone/);
    expect(sh(repo, "rev-parse", "main")).toBe(head);
    expect(sh(repo, "status", "--porcelain")).toContain("A  mine.txt");
  });

  test("a merge left with conflict markers is not committed; resolved but not staged, it is committed as the merge", async () => {
    const { repo, stateDir } = project();
    const wt = await ensureUnitWorktree(repo, stateDir, "", "a", "main");
    commitFiles(wt.path, { "shared.txt": "mine\n" }, "a: IMPLEMENT");
    commitFiles(repo, { "shared.txt": "theirs\n" }, "landed meanwhile");
    // What an agent does that merges the base in and stops without resolving.
    const merging = Bun.spawnSync(["git", "merge", "main"], { cwd: wt.path, env: gitEnvironment(TEST_GIT_IDENTITY) });
    expect(merging.exitCode).not.toBe(0);
    expect(readFileSync(join(wt.path, "shared.txt"), "utf8")).toContain("<<<<<<< ");
    const tip = sh(wt.path, "rev-parse", "HEAD");
    await expect(commitWorktree(wt.path, "ve/a", "a: resolve conflicts", await commitIdentity(repo))).rejects.toThrow(/shared\.txt.*conflict markers/);
    expect(sh(wt.path, "rev-parse", "HEAD")).toBe(tip);
    writeFileSync(join(wt.path, "shared.txt"), "mine and theirs\n");
    const merged = await commitWorktree(wt.path, "ve/a", "a: resolve conflicts", await commitIdentity(repo));
    expect(sh(wt.path, "rev-list", "--parents", "-n", "1", merged as string).split(" ")).toHaveLength(3);
  });

  test("committing an untouched worktree makes no commit; removal unlocks and removes it", async () => {
    const { repo, stateDir } = project();
    const wt = await ensureUnitWorktree(repo, stateDir, "", "a", "main");
    expect(await commitWorktree(wt.path, "ve/a", "a: PLAN", await commitIdentity(repo))).toBeNull();
    await removeUnitWorktree(repo, wt.path);
    expect(existsSync(wt.path)).toBe(false);
    expect((await listWorktrees(repo)).length).toBe(1);
  });
});
