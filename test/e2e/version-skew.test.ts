// A CLI and a daemon of different versions: the CLI warns once on stderr, and --json output
// on stdout stays one clean document.
import { beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { WorkUnitList } from "../../src/models/index.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { VE, json, run, useProjects } from "./harness.ts";

const { project, ve } = useProjects("ve-skew");
const buildDirs = useTempDirs("ve-skew-build");
const REPO = resolve(import.meta.dir, "../..");
const OTHER_VERSION = "99.0.0-skew";
let otherVe = "";

// A real second build whose package.json says another version: the same sources, compiled
// the same way, so the only difference is the version each side reports.
beforeAll(async () => {
  const dir = buildDirs();
  for (const entry of ["src", "sql", "build.ts", "tsconfig.json"]) cpSync(join(REPO, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ ...pkg, version: OTHER_VERSION }));
  const build = await run([process.execPath, "run", "build.ts"], { cwd: dir, timeoutMs: 120_000 });
  expect(build.code).toBe(0);
  otherVe = join(dir, "dist", "ve");
  const version = await run([otherVe, "--version"]);
  expect(version.stdout.trim()).toBe(OTHER_VERSION);
}, 120_000);

describe("version skew", () => {
  test("a client of another version warns once on stderr and keeps --json stdout clean", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    const ours = (await run([VE, "--version"])).stdout.trim();

    const listed = await run([otherVe, "orch", "ps", "--json", "--project-dir", dir]);
    expect(listed.code).toBe(0);
    expect(Value.Check(WorkUnitList, json(listed))).toBe(true);
    const warnings = listed.stderr.split("\n").filter((line) => line.includes("warning"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(ours);
    expect(warnings[0]).toContain(OTHER_VERSION);

    // Two requests in one command (show = unit + history): still a single warning.
    await run([otherVe, "orch", "work-unit", "create", "skewed", "--project-dir", dir]);
    const shown = await run([otherVe, "orch", "work-unit", "show", "skewed", "--json", "--project-dir", dir]);
    expect(shown.code).toBe(0);
    json(shown);
    expect(shown.stderr.split("\n").filter((line) => line.includes("warning"))).toHaveLength(1);

    const same = await ve(dir, ["orch", "ps", "--json"]);
    expect(same.stderr).toBe("");
  });
});
