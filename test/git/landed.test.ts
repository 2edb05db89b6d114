import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { landBranch } from "../../src/git/land.ts";
import { landedMergeOf, landingMessage, mergesOfChunk } from "../../src/git/landed.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { commitFiles, initRepo, sh } from "./support.ts";

const tempDir = useTempDirs("ve-landed");

describe("mergesOfChunk", () => {
  const a = "a".repeat(40);
  const b = "b".repeat(40);
  test.each([
    ["one merge of the chunk", `${a}\tx\0`, "x", [a]],
    ["a longer name is not the chunk", `${a}\txy\0`, "x", []],
    ["several trailers, one of them", `${a}\tother\tx\0${b}\tx\0`, "x", [a, b]],
    ["no trailer", `${a}\t\0`, "x", []],
    ["empty output", "", "x", []],
    ["a root project's with an empty project part", `${a}\tx\x1f\0`, "x", [a]],
    ["a nested project's is not the root project's", `${a}\tx\x1fsub\0${b}\tx\x1f\0`, "x", [b]],
  ])("%s", (_what, output, chunk, expected) => {
    expect(mergesOfChunk(output, chunk)).toEqual(expected);
  });
  test("a nested project finds only the merges naming its own directory", () => {
    const output = `${a}\tx\x1fsub\0${b}\tx\x1f\0`;
    expect(mergesOfChunk(output, "x", "sub/")).toEqual([a]);
    expect(mergesOfChunk(output, "x", "other/")).toEqual([]);
  });
});

describe("landedMergeOf", () => {
  test("finds the landing merge of a chunk by its trailer once the branch is gone; not one made before the unit was", async () => {
    const repo = initRepo(tempDir());
    const worktree = join(tempDir(), "wt");
    sh(repo, "worktree", "add", "-q", "-b", "ve/x", worktree, "main");
    commitFiles(worktree, { "x.txt": "x\n" }, "x: IMPLEMENT");
    const before = new Date(Date.now() - 5000).toISOString();
    const landed = await landBranch({ repo, base: "main", branch: "ve/x", message: landingMessage("", "x") });
    expect(landed.kind).toBe("landed");
    const commit = (landed as { commit: string }).commit;
    sh(repo, "worktree", "remove", "--force", worktree);
    sh(repo, "branch", "-D", "ve/x");
    expect(sh(repo, "log", "-1", "--format=%s", "main")).toBe("Land x (ve)");
    expect(await landedMergeOf(repo, "main", "", "x", before)).toBe(commit);
    expect(await landedMergeOf(repo, "main", "", "xy", before)).toBeUndefined();
    expect(await landedMergeOf(repo, "main", "", "x", new Date(Date.now() + 60_000).toISOString())).toBeUndefined();
  });

  test("a landing of another project on the same repository is not this project's, for a chunk of the same name", async () => {
    const repo = initRepo(tempDir());
    const before = new Date(Date.now() - 5000).toISOString();
    const lands = async (projectPrefix: string, branch: string, file: string) => {
      const worktree = join(tempDir(), "wt");
      sh(repo, "worktree", "add", "-q", "-b", branch, worktree, "main");
      commitFiles(worktree, { [file]: "x\n" }, "x: IMPLEMENT");
      const landed = await landBranch({ repo, base: "main", branch, message: landingMessage(projectPrefix, "x") });
      sh(repo, "worktree", "remove", "--force", worktree);
      sh(repo, "branch", "-D", branch);
      return (landed as { commit: string }).commit;
    };
    const atRoot = await lands("", "ve/x", "root.txt");
    // The root project's landing of x is not the nested project's (whose branch is gone too).
    expect(await landedMergeOf(repo, "main", "sub/", "x", before)).toBeUndefined();
    const nested = await lands("sub/", "ve/@sub/x", "sub.txt");
    expect(await landedMergeOf(repo, "main", "sub/", "x", before)).toBe(nested);
    expect(await landedMergeOf(repo, "main", "other/sub/", "x", before)).toBeUndefined();
    // Nor is the nested one's the root project's: the root's own is still found.
    expect(await landedMergeOf(repo, "main", "", "x", before)).toBe(atRoot);
  });
});
