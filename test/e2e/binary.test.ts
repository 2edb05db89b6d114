// dist/ve is the whole program: it works from any directory, copied alone (no sql/, no
// node_modules beside it), and never reads the `.env` or `bunfig.toml` of where it runs.
import { describe, expect, test } from "bun:test";
import { copyFileSync, cpSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DaemonStatus, StartResult, WorkUnitList } from "../../src/models/index.ts";
import { cwdOf, executableOf } from "../helpers/processes.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { VE, jsonOf, run, stateFiles, useProjects } from "./harness.ts";

const { project, track, ve } = useProjects("ve-binary");
const tempDir = useTempDirs("ve-binary-copy");

describe("the compiled binary", () => {
  test("runs from / (and from elsewhere with a relative --project-dir)", async () => {
    const dir = project();
    const start = await ve(dir, ["orch", "start", "--json"], { cwd: "/" });
    expect(start.code).toBe(0);
    const pid = jsonOf(StartResult, start).daemon.pid;
    expect((await ve(dir, ["orch", "work-unit", "create", "from-root"], { cwd: "/" })).code).toBe(0);
    const ps = await ve(dir, ["orch", "ps"], { cwd: "/" });
    expect(ps.code).toBe(0);
    expect(ps.stdout).toContain("from-root");

    // The daemon works in the project, whatever directory the CLI ran in.
    expect(cwdOf(pid)).toBe(dir);

    // A relative spelling of the same project reaches the same daemon.
    const relative = await run([VE, "orch", "status", "--json", "--project-dir", basename(dir)], { cwd: dirname(dir) });
    expect(relative.code).toBe(0);
    expect(jsonOf(DaemonStatus, relative)).toMatchObject({ pid, project_dir: dir });

    expect((await ve(dir, ["orch", "stop"], { cwd: "/" })).code).toBe(0);
  });

  test("works copied alone into an empty directory: no sql/, no node_modules, migrations embedded", async () => {
    const bin = tempDir();
    const copy = join(bin, "ve");
    copyFileSync(VE, copy);
    expect(existsSync(join(bin, "sql"))).toBe(false);
    const dir = project();
    const veCopy = (args: string[]) => run([copy, ...args, "--project-dir", dir], { cwd: bin });

    const start = await veCopy(["orch", "start", "--json"]);
    expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: "" });
    const pid = jsonOf(StartResult, start).daemon.pid;
    // The daemon is this very copy, re-executed.
    expect(executableOf(pid)).toBe(copy);

    expect((await veCopy(["orch", "work-unit", "create", "alone"])).code).toBe(0);
    const ps = jsonOf(WorkUnitList, await veCopy(["orch", "ps", "--json"]));
    expect(ps.work_units.map((u) => u.chunk)).toEqual(["alone"]);
    const log = await veCopy(["orch", "logs", "-n", "20"]);
    expect(log.stdout).toContain("database migrated to version");
    expect((await veCopy(["orch", "stop"])).code).toBe(0);
  });

  test("ignores the .env and bunfig.toml of the directory it runs in", async () => {
    const base = project();
    const dir = track(join(base, "repo"));
    mkdirSync(join(dir, ".git"), { recursive: true });
    // If Bun loaded these, ve would look for /nonexistent, choke on NODE_OPTIONS, or run the
    // preload: which writes a marker and exits 9.
    writeFileSync(
      join(dir, ".env"),
      "VE_PROJECT_DIR=/nonexistent\nNODE_OPTIONS=--definitely-not-an-option\nVE_REQUEST_TIMEOUT_MS=junk\n",
    );
    writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./preload.ts"]\n\n[run]\npreload = ["./preload.ts"]\n');
    writeFileSync(
      join(dir, "preload.ts"),
      'require("node:fs").writeFileSync(require("node:path").join(process.cwd(), "PRELOAD-RAN"), String(process.pid));\nprocess.exit(9);\n',
    );
    const marker = join(dir, "PRELOAD-RAN");

    // Control: a plain `bun` in a copy of this directory does load them, so the fixture bites.
    const control = join(base, "control");
    cpSync(dir, control, { recursive: true });
    writeFileSync(join(control, "main.ts"), "console.log(process.env.VE_PROJECT_DIR);\n");
    const plain = await run([process.execPath, "run", "main.ts"], { cwd: control });
    expect(plain.code).toBe(9);
    expect(existsSync(join(control, "PRELOAD-RAN"))).toBe(true);

    // ve from inside the project, with no --project-dir: it finds the project by its .git.
    const start = await ve(null, ["orch", "start", "--json"], { cwd: dir });
    expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: "" });
    expect(jsonOf(StartResult, start).daemon.project_dir).toBe(dir);
    expect((await ve(null, ["orch", "work-unit", "create", "dotenv-proof"], { cwd: dir })).code).toBe(0);
    const ps = await ve(null, ["orch", "ps", "--json"], { cwd: dir });
    expect(ps.code).toBe(0);
    expect(jsonOf(WorkUnitList, ps).work_units.map((u) => u.chunk)).toEqual(["dotenv-proof"]);
    expect((await ve(null, ["orch", "stop"], { cwd: dir })).code).toBe(0);

    // Neither the CLI nor the daemon (which runs in the project directory) ran the preload.
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(stateFiles(dir).db)).toBe(true);
  });
});
