import { describe, expect, test } from "bun:test";
import { json, useProjects } from "./harness.ts";

const { project, ve } = useProjects();

describe("smoke", () => {
  test("start, create, ps, stop", async () => {
    const dir = project();
    const start = await ve(dir, ["orch", "start", "--json"]);
    expect(start.code).toBe(0);
    expect(json<{ already_running: boolean }>(start).already_running).toBe(false);
    expect((await ve(dir, ["orch", "work-unit", "create", "a"])).code).toBe(0);
    const ps = json<{ count: number }>(await ve(dir, ["orch", "ps", "--json"]));
    expect(ps.count).toBe(1);
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
    expect((await ve(dir, ["orch", "status"])).code).toBe(3);
  });
});
