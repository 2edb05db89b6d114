// The real binary on a project whose `.ve/orchestrator.db` the Python `ve orch` wrote: start
// reports what the upgrade renamed (stderr and log), and ps, show and history all answer.
import { describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { REFERENCE_UNITS, writeReferenceDatabase } from "../helpers/reference-db.ts";
import { json, useProjects } from "./harness.ts";

const { project, ve } = useProjects("ve-reference");

describe("a project the Python reference used", () => {
  test("start reports the renames on stderr and in the log; every read answers", async () => {
    const dir = project();
    mkdirSync(join(dir, ".ve"), { mode: 0o700 });
    writeReferenceDatabase(join(dir, ".ve", "orchestrator.db"));

    const started = await ve(dir, ["orch", "start"]);
    expect(started.code, started.stderr).toBe(0);
    for (const [from, to] of [["my chunk", "my-chunk"], ["a/b", "a-b-2"]]) {
      expect(started.stderr).toContain(`'${from}' was renamed to '${to}'`);
    }
    const logs = await ve(dir, ["orch", "logs", "-n", "100"]);
    expect(logs.stdout).toContain("'a/b' was renamed to 'a-b-2'");

    const ps = await ve(dir, ["orch", "ps", "--json"]);
    expect(ps.code, ps.stdout + ps.stderr).toBe(0);
    const units = (json(ps) as { work_units: { chunk: string }[] }).work_units;
    expect(units.length).toBe(REFERENCE_UNITS.length);
    for (const { chunk } of units) {
      const show = await ve(dir, ["orch", "work-unit", "show", chunk, "--json"]);
      expect(show.code, show.stdout + show.stderr).toBe(0);
    }
    const shown = await ve(dir, ["orch", "work-unit", "show", "a-b-2", "--json"]);
    expect(shown.stdout).toContain("renamed from 'a/b'");
    // A second start of the converted project has nothing to report.
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
    const again = await ve(dir, ["orch", "start"]);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain("renamed");
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
  });
});
