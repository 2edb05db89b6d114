// The compiled binary knows what it is: version, commit, build date and target are stamped in by
// build.ts, and the daemon's GET /status reports them for the daemon's own binary.
import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { BuildInfo, DaemonStatus } from "../../src/models/index.ts";
import { VERSION, hostTarget } from "../../src/version.ts";
import { VE, jsonOf, run, useProjects } from "./harness.ts";

const { project, ve } = useProjects("ve-build-info");
const REPO = join(import.meta.dir, "../..");

function head(): string {
  return Bun.spawnSync(["git", "rev-parse", "HEAD"], { cwd: REPO }).stdout.toString().trim();
}

describe("build stamp", () => {
  test("`ve orch status --json` names the daemon binary's version, commit, build time and target", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    const status = jsonOf(DaemonStatus, await ve(dir, ["orch", "status", "--json"]));
    expect(status.version).toBe(VERSION);
    expect(status.target).toBe(hostTarget());
    // dist/ve was built from this checkout: its HEAD, marked dirty when files differ from it.
    expect(status.commit).toMatch(new RegExp(`^${head()}(-dirty)?$`));
    // Stamped when built (or at SOURCE_DATE_EPOCH): never after the file was written.
    expect(status.built_at).not.toBeNull();
    expect(Date.parse(status.built_at ?? "")).toBeLessThanOrEqual(statSync(VE).mtimeMs);
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
  });

  test("`ve --version --json` says the same of the CLI binary as the daemon's status says of the daemon", async () => {
    const dir = project();
    const version = jsonOf(BuildInfo, await run([VE, "--version", "--json"]));
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    const status = jsonOf(DaemonStatus, await ve(dir, ["orch", "status", "--json"]));
    expect({ version: status.version, commit: status.commit, built_at: status.built_at, target: status.target }).toEqual(version);
    expect(version.commit).not.toBeNull();
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
  });
});
