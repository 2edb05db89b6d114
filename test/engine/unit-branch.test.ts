import { expect, test } from "bun:test";
import { encodeProjectPrefix, unitBranch } from "../../src/engine/worktrees.ts";

test("a project at the repository's top level keeps ve/<chunk>; a nested one gets its own space", () => {
  expect(unitBranch("", "api")).toBe("ve/api");
  expect(unitBranch("sub/", "api")).toBe("ve/@sub/api");
  expect(unitBranch("packages/web-app/", "api")).toBe("ve/@packages+web-app/api");
});

test("the directory is encoded into one valid ref component that tells paths apart", () => {
  const cases: [string, string][] = [
    ["a.b/", "a%2Eb"],
    [".hidden/x/", "%2Ehidden+x"],
    ["a+b/", "a%2Bb"],
    ["100%/", "100%25"],
    ["my dir/", "my%20dir"],
    ["@{x}/", "%40%7Bx%7D"],
    ["a..b~^:?*[\\/", "a%2E%2Eb%7E%5E%3A%3F%2A%5B%5C"],
    ["é/", "%C3%A9"],
    ["x.lock/", "x%2Elock"],
  ];
  for (const [prefix, encoded] of cases) expect(encodeProjectPrefix(prefix)).toBe(encoded);
  // `a+b` and `a/b` are different directories and stay different branches.
  expect(unitBranch("a+b/", "x")).not.toBe(unitBranch("a/b/", "x"));
  for (const [prefix] of cases) {
    const ref = `refs/heads/${unitBranch(prefix, "api")}`;
    const checked = Bun.spawnSync(["git", "check-ref-format", ref], { env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } });
    expect({ ref, code: checked.exitCode }).toEqual({ ref, code: 0 });
  }
});
