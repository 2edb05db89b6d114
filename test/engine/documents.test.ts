import { describe, expect, test } from "bun:test";
import { detectPhase, readChunkDocuments, stripFrontmatter } from "../../src/engine/documents.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { commitFiles, initRepo, sh } from "../git/support.ts";

const tempDir = useTempDirs("ve-docs");

describe("chunk documents", () => {
  test("the phase follows from what the base branch holds", async () => {
    const repo = initRepo(tempDir());
    expect(detectPhase(await readChunkDocuments(repo, "main", "a"))).toBe("GOAL");
    commitFiles(repo, { "docs/chunks/a/GOAL.md": "Do a.\n" });
    expect(detectPhase(await readChunkDocuments(repo, "main", "a"))).toBe("PLAN");
    commitFiles(repo, { "docs/chunks/a/PLAN.md": "---\ndepends_on: []\n---\n\n" });
    expect(detectPhase(await readChunkDocuments(repo, "main", "a"))).toBe("PLAN");
    commitFiles(repo, { "docs/chunks/a/PLAN.md": "1. do it\n" });
    expect(detectPhase(await readChunkDocuments(repo, "main", "a"))).toBe("IMPLEMENT");
  });

  test("only the base branch counts, not the working tree or another branch", async () => {
    const repo = initRepo(tempDir());
    sh(repo, "checkout", "-q", "-b", "feature");
    commitFiles(repo, { "docs/chunks/a/GOAL.md": "Do a.\n" });
    expect((await readChunkDocuments(repo, "main", "a")).goal).toBeNull();
    expect((await readChunkDocuments(repo, "feature", "a")).goal).toBe("Do a.\n");
  });

  test("depends_on is read in the forms people write", () => {
    expect(stripFrontmatter("---\ndepends_on: [a, 'b', \"c\"]\n---\nbody").dependsOn).toEqual(["a", "b", "c"]);
    expect(stripFrontmatter("---\ntitle: x\ndepends_on:\n  - a\n  - b # why\nother: 1\n---\n").dependsOn).toEqual(["a", "b"]);
    expect(stripFrontmatter("---\ndepends_on: a\n---\n").dependsOn).toEqual(["a"]);
    expect(stripFrontmatter("no frontmatter\n---\ndepends_on: [x]\n---\n")).toEqual({
      body: "no frontmatter\n---\ndepends_on: [x]\n---\n",
      dependsOn: [],
    });
    expect(stripFrontmatter("---\r\ndepends_on: [a]\r\n---\r\nbody").body).toBe("body");
  });
});
