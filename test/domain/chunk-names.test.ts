// Each invalid chunk name is told the rule it broke, with the name quoted (issue 10 item 6),
// and that explanation agrees with the schema's pattern on every name.
import { describe, expect, test } from "bun:test";
import { CHUNK_NAME_PATTERN, chunkNameProblem, explainChunkName, isValidChunkName } from "../../src/domain.ts";

describe("the rule a name broke", () => {
  const cases: [string, string][] = [
    ["", "is empty"],
    ["a".repeat(101), "is 101 characters long; the limit is 100"],
    ["my chunk", "contains a space"],
    ["feat/x", "contains '/'"],
    ["tab\there", "contains the control character U+0009"],
    ["caf\u00e9", "contains 'é' (U+00E9)"],
    ["-leading", "starts with '-'"],
    [".hidden", "starts with '.'"],
    ["_x", "starts with '_'"],
    ["a..b", "contains '..'"],
    ["name.lock", "ends in '.lock'"],
    ["name.", "ends in '.'"],
  ];
  for (const [name, problem] of cases) {
    test(`${JSON.stringify(name.length > 20 ? `${name.slice(0, 20)}...` : name)}: ${problem}`, () => {
      expect(chunkNameProblem(name)).toContain(problem);
      expect(isValidChunkName(name)).toBe(false);
    });
  }

  test("the sentence quotes the name (shortened when long) and names the field", () => {
    expect(explainChunkName("blocked_by[1]", "a..b")).toBe("blocked_by[1] 'a..b' contains '..'; use single dots");
    const long = explainChunkName("chunk", "x".repeat(500)) ?? "";
    expect(long).toContain(`'${"x".repeat(60)}...'`);
    expect(long.length).toBeLessThan(200);
    expect(explainChunkName("chunk", "ok-name_1.2")).toBeUndefined();
  });

  test("agrees with the schema pattern on every short name over a mixed alphabet", () => {
    const pattern = new RegExp(CHUNK_NAME_PATTERN);
    const alphabet = ["a", "Z", "0", ".", "_", "-", " ", "/", "k", "l", "o", "c"];
    let checked = 0;
    const visit = (name: string, depth: number) => {
      if (name.length > 0) {
        expect([name, chunkNameProblem(name) === undefined]).toEqual([name, pattern.test(name)]);
        checked++;
      }
      if (depth === 0) return;
      for (const c of alphabet) visit(name + c, depth - 1);
    };
    visit("", 4);
    for (const name of ["a.lock", "a.lockx", "x.lock.y", "a".repeat(100), "a".repeat(101)]) {
      expect([name, chunkNameProblem(name) === undefined]).toEqual([name, pattern.test(name)]);
    }
    expect(checked).toBeGreaterThan(20000);
  });
});
