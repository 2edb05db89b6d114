// `ve orch ps` and the help pages fit the terminal they are shown on: $COLUMNS when set, else
// the terminal's own width; piped into another program, ps prints every value in full.
import { describe, expect, test } from "bun:test";
import { DaemonStatus, WorkUnitList } from "../../src/models/index.ts";
import { VE, jsonOf, run, useProjects } from "./harness.ts";
import { hasUtilLinuxScript, onPty } from "../helpers/processes.ts";

const { project, ve } = useProjects("ve-width");
const hasScript = hasUtilLinuxScript("terminal-width terminal tests");

const LONG = `a-very-long-chunk-name-${"n".repeat(70)}`;

async function projectWithLongNames(): Promise<string> {
  const dir = project();
  expect((await ve(dir, ["orch", "start"])).code).toBe(0);
  expect((await ve(dir, ["orch", "work-unit", "create", LONG])).code).toBe(0);
  expect((await ve(dir, ["orch", "work-unit", "create", "short", "--blocked-by", LONG])).code).toBe(0);
  return dir;
}

/** `ve args` on a pseudo-terminal `columns` wide, as a person would see it. */
function onTerminal(args: string[], columns: number, env: Record<string, string | undefined> = {}) {
  const command = [VE, ...args].map((a) => `'${a}'`).join(" ");
  const terminal = onPty(`stty cols ${columns} rows 40; ${command}`);
  return run(terminal.argv, { env: { COLUMNS: undefined, ...terminal.env, ...env } });
}

const lines = (text: string) => text.replaceAll("\r", "").trimEnd().split("\n");
const widest = (text: string) => Math.max(...lines(text).map((line) => line.length));

describe("ps fits the width", () => {
  test("COLUMNS=60: no line wider, long names cut with an ellipsis; --json keeps them whole", async () => {
    const dir = await projectWithLongNames();
    const ps = await ve(dir, ["orch", "ps"], { env: { COLUMNS: "60" } });
    expect(ps.code).toBe(0);
    expect(widest(ps.stdout)).toBeLessThanOrEqual(60);
    expect(ps.stdout).toContain("\u2026");
    expect(ps.stdout).not.toContain(LONG);
    expect(lines(ps.stdout)[0]?.split(/\s{2,}/)).toEqual(["CHUNK", "PHASE", "STATUS", "BLOCKED BY", "FOR"]);
    const list = jsonOf(WorkUnitList, await ve(dir, ["orch", "ps", "--json"], { env: { COLUMNS: "60" } }));
    expect(list.work_units.map((u) => u.chunk)).toEqual([LONG, "short"]);
  });

  test("piped without COLUMNS: every value in full, for the program reading it", async () => {
    const dir = await projectWithLongNames();
    const ps = await ve(dir, ["orch", "ps"], { env: { COLUMNS: undefined } });
    expect(ps.code).toBe(0);
    expect(ps.stdout).toContain(LONG);
    expect(ps.stdout).not.toContain("\u2026");
  });

  test.skipIf(!hasScript)("on a 60-column terminal without COLUMNS, the terminal's width", async () => {
    const dir = await projectWithLongNames();
    const ps = await onTerminal(["orch", "ps", "--project-dir", dir], 60, { NO_COLOR: "1" });
    expect(ps.code).toBe(0);
    expect(ps.stdout).toContain("short");
    expect(widest(ps.stdout)).toBeLessThanOrEqual(60);
    expect(ps.stdout).toContain("\u2026");
    const wide = await onTerminal(["orch", "ps", "--project-dir", dir], 200, { NO_COLOR: "1" });
    expect(wide.stdout).toContain(LONG);
  });

  test("FOR is how long the unit has been in its status", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    expect((await ve(dir, ["orch", "work-unit", "create", "a"])).code).toBe(0);
    const ps = await ve(dir, ["orch", "ps"]);
    const row = lines(ps.stdout)[1]?.split(/\s{2,}/);
    expect(row?.[0]).toBe("a");
    expect(row?.[4]).toMatch(/^\d+s$/);
    // The daemon answers; its status document is unchanged by the table's width.
    jsonOf(DaemonStatus, await ve(dir, ["orch", "status", "--json"]));
  });
});

describe("help fits the width", () => {
  const pages = [[], ["orch"], ["orch", "start"], ["orch", "work-unit", "update"], ["orch", "ps"]];

  test("COLUMNS=60 and piped (80): no line wider, no trailing spaces", async () => {
    for (const [env, width] of [
      [{ COLUMNS: "60" }, 60],
      [{ COLUMNS: undefined }, 80],
    ] as const) {
      for (const page of pages) {
        const r = await ve(null, [...page, "--help"], { env });
        const label = `${JSON.stringify(env)} ve ${page.join(" ")} --help`;
        expect({ label, code: r.code }).toEqual({ label, code: 0 });
        expect({ label, fits: widest(r.stdout) <= width }).toEqual({ label, fits: true });
        expect({ label, trailing: lines(r.stdout).filter((l) => l.endsWith(" ")) }).toEqual({ label, trailing: [] });
      }
    }
  });

  test.skipIf(!hasScript)("on a 50-column terminal", async () => {
    const r = await onTerminal(["orch", "work-unit", "update", "--help"], 50, { NO_COLOR: "1" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--expected-updated-at");
    expect(widest(r.stdout)).toBeLessThanOrEqual(50);
  });
});
