// The guards' verdicts over figures: where each limit lies, what it says, and what it offers to raise.
import { describe, expect, test } from "bun:test";
import { commitVerdict, deletionVerdict, fileCountVerdict, fileSizeVerdict, shownPaths } from "../../src/engine/guards.ts";

const MB = 1024 * 1024;
const files = (n: number, prefix = "f") => Array.from({ length: n }, (_, i) => `${prefix}${i}.txt`);

describe("deletion verdict", () => {
  const cases: { name: string; deleted: number; baseFiles: number; maxRatio: number; refused: boolean }[] = [
    { name: "nothing deleted", deleted: 0, baseFiles: 20, maxRatio: 0.5, refused: false },
    { name: "exactly the ratio", deleted: 10, baseFiles: 20, maxRatio: 0.5, refused: false },
    { name: "one past the ratio", deleted: 11, baseFiles: 20, maxRatio: 0.5, refused: true },
    { name: "every file", deleted: 20, baseFiles: 20, maxRatio: 0.5, refused: true },
    { name: "every file with the ratio at 1", deleted: 20, baseFiles: 20, maxRatio: 1, refused: false },
    { name: "any deletion with the ratio at 0", deleted: 1, baseFiles: 200, maxRatio: 0, refused: true },
    { name: "a base with no files", deleted: 0, baseFiles: 0, maxRatio: 0, refused: false },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.refused ? "refused" : "let through"}`, () => {
      const verdict = deletionVerdict({ deleted: files(c.deleted), baseFiles: c.baseFiles, base: "main", maxRatio: c.maxRatio });
      expect(verdict !== null).toBe(c.refused);
    });
  }

  test("the refusal gives the figures, the percentage rounded down, the base and the setting to raise", () => {
    const verdict = deletionVerdict({ deleted: files(18), baseFiles: 20, base: "main", maxRatio: 0.5 });
    expect(verdict).toMatchObject({ code: "too_many_deletions", raise: "guard.max_deleted_ratio 1" });
    expect(verdict?.summary).toBe("deletes 18 of 20 files of main (90%, guard.max_deleted_ratio is 0.5)");
    expect(verdict?.paths).toHaveLength(18);
  });
});

describe("file size verdict", () => {
  test("a file at the limit passes, one byte over is refused", () => {
    expect(fileSizeVerdict([{ path: "a.bin", bytes: 100 * MB }], 100)).toBeNull();
    expect(fileSizeVerdict([{ path: "a.bin", bytes: 100 * MB + 1 }], 100)?.code).toBe("file_too_large");
  });

  test("names every large file, largest first, and offers a limit that lets the largest through", () => {
    const verdict = fileSizeVerdict(
      [
        { path: "small.txt", bytes: 10 },
        { path: "b.bin", bytes: 150 * MB },
        { path: "a.bin", bytes: 450 * MB },
      ],
      100,
    );
    expect(verdict?.paths).toEqual(["a.bin", "b.bin"]);
    expect(verdict?.summary).toBe("adds or changes 2 files larger than guard.max_file_mb (100 MB): a.bin (450.0 MB), b.bin (150.0 MB)");
    expect(verdict?.raise).toBe("guard.max_file_mb 450");
  });

  test("a file just over the limit: the offered limit is at least double, so it is not refused again", () => {
    expect(fileSizeVerdict([{ path: "a.bin", bytes: 101 * MB }], 100)?.raise).toBe("guard.max_file_mb 200");
  });
});

describe("file count verdict", () => {
  test("the limit itself passes, one more is refused with the count and a limit that lets it through", () => {
    expect(fileCountVerdict(files(50), 50)).toBeNull();
    const verdict = fileCountVerdict(files(51), 50);
    expect(verdict?.code).toBe("too_many_files");
    expect(verdict?.summary.startsWith("adds 51 files, more than guard.max_files (50): f0.txt, f1.txt")).toBe(true);
    expect(verdict?.raise).toBe("guard.max_files 100");
    expect(fileCountVerdict(files(500), 50)?.raise).toBe("guard.max_files 500");
  });
});

describe("paths shown in a reason", () => {
  test("ten at most, then how many in all", () => {
    expect(shownPaths(files(3))).toBe("f0.txt, f1.txt, f2.txt");
    expect(shownPaths(files(12))).toBe(`${files(10).join(", ")}, ... (12 in all)`);
  });
});

describe("commit verdict", () => {
  const limits = { maxDeletedRatio: 0.5, maxFileMb: 100, maxFiles: 5 };
  test("deletions are judged first, then sizes, then the count", () => {
    const all = { deletions: { deleted: files(10), baseFiles: 10 }, sizes: [{ path: "a.bin", bytes: 200 * MB }], added: files(6, "n") };
    expect(commitVerdict(all, "main", limits)?.code).toBe("too_many_deletions");
    expect(commitVerdict({ ...all, deletions: undefined }, "main", limits)?.code).toBe("file_too_large");
    expect(commitVerdict({ ...all, deletions: undefined, sizes: [] }, "main", limits)?.code).toBe("too_many_files");
    expect(commitVerdict({ sizes: [], added: files(5, "n") }, "main", limits)).toBeNull();
  });
});
