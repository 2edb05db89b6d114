import { describe, expect, test } from "bun:test";
import { describeSettingsChanges } from "../../src/git/repo-settings.ts";

const none = { configs: {}, hooks: {} };

describe("describeSettingsChanges", () => {
  test.each([
    ["nothing changed", { configs: { config: ["core.bare=false"] }, hooks: { "pre-commit": "d1" } }, { configs: { config: ["core.bare=false"] }, hooks: { "pre-commit": "d1" } }, []],
    ["a command-running key added", { configs: { config: ["core.bare=false"] }, hooks: {} }, { configs: { config: ["core.bare=false", "core.fsmonitor=/x"] }, hooks: {} }, ["config: + core.fsmonitor=/x"]],
    ["a value changed", { configs: { config: ["core.hookspath=a"] }, hooks: {} }, { configs: { config: ["core.hookspath=b"] }, hooks: {} }, ["config: - core.hookspath=a", "config: + core.hookspath=b"]],
    ["a person's git push -u is no change", { configs: { config: [] }, hooks: {} }, { configs: { config: ["branch.f.remote=origin", "branch.f.merge=refs/heads/f"] }, hooks: {} }, []],
    ["a worktree config appears", none, { configs: { "worktrees/a/config.worktree": ["filter.x.clean=sh"] }, hooks: {} }, ["worktrees/a/config.worktree: + filter.x.clean=sh"]],
    ["hooks added, changed, removed", { configs: {}, hooks: { a: "1", b: "2" } }, { configs: {}, hooks: { b: "3", c: "4" } }, ["hooks/a: removed", "hooks/b: changed", "hooks/c: added"]],
  ] as const)("%s", (_name, before, after, expected) => {
    expect(describeSettingsChanges(before as never, after as never)).toEqual([...expected]);
  });
});
