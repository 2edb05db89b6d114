// Two processes doing read-modify-write through their own Store on the same units: no error
// but stale_write, no lost update, and a status log that tells the same story as the units.
import { expect, test } from "bun:test";
import { Store } from "../../src/state/store.ts";
import { type RawLogRow, expectLine, logRows, release, useChildren, useStores } from "./support.ts";
import type { Report, Write } from "./fixtures/rmw-report.ts";

const { newPath } = useStores("ve-concurrency");
const spawn = useChildren();

const UPDATES_PER_PROCESS = 1000;
const UNITS = ["u0", "u1", "u2"];


test(
  `two processes x ${UPDATES_PER_PROCESS} compare-and-set updates: no lost update, consistent log`,
  async () => {
    const path = newPath();
    const setup = Store.open(path);
    const initial = new Map(UNITS.map((chunk) => [chunk, setup.create({ chunk })]));
    setup.close();

    const children = ["A", "B"].map((tag) =>
      spawn("rmw-worker.ts", path, tag, String(UPDATES_PER_PROCESS), UNITS.join(",")),
    );
    for (const child of children) await expectLine(child, "ready");
    for (const child of children) release(child);

    const reports: Report[] = [];
    for (const child of children) {
      const lines = await child.lines.rest();
      const code = await child.proc.exited;
      if (code !== 0) throw new Error(`writer failed (${code}): ${lines.join("\n")} ${await child.stderr}`);
      expect(lines.length).toBe(1);
      reports.push(JSON.parse(lines[0] ?? "") as Report);
    }
    for (const report of reports) expect(report.writes.length).toBe(UPDATES_PER_PROCESS);

    const store = Store.open(path);
    try {
      const allWrites = reports.flatMap((r) => r.writes.map((w) => ({ ...w, tag: r.tag })));
      for (const chunk of UNITS) {
        const unit = store.get(chunk);
        const writes = allWrites.filter((w) => w.unit === chunk).sort((a, b) => a.updated_at.localeCompare(b.updated_at));
        expect(writes.length).toBeGreaterThan(0);

        // Every acknowledged write produced its own version, and the versions form one chain:
        // each write was based on exactly the version before it. A lost update would show as
        // two writes expecting the same version.
        expect(new Set(writes.map((w) => w.updated_at)).size).toBe(writes.length);
        expect(new Set(writes.map((w) => w.expected)).size).toBe(writes.length);
        let version = initial.get(chunk)?.updated_at;
        let status = "READY";
        for (const write of writes) {
          expect(write.expected).toBe(version as string);
          expect(write.from).toBe(status);
          version = write.updated_at;
          status = write.to;
        }
        // The stored unit is the last acknowledged write, worktree included.
        const last = writes.at(-1) as Write;
        expect(unit.updated_at).toBe(last.updated_at);
        expect(unit.worktree).toBe(last.worktree);
        expect(unit.status).toBe(last.to as typeof unit.status);

        // The log: one creation row plus one row per acknowledged write, chained, ending at
        // the unit's current status.
        const log: RawLogRow[] = logRows(store, chunk);
        expect(log.length).toBe(1 + writes.length);
        expect(log[0]?.old_status).toBeNull();
        for (let i = 1; i < log.length; i++) {
          expect(log[i]?.old_status).toBe(log[i - 1]?.new_status as string);
          expect(log[i]?.timestamp).toBe(writes[i - 1]?.updated_at as string);
        }
        expect(log.at(-1)?.new_status).toBe(unit.status);
      }
      // Both writers really interleaved and really conflicted (otherwise this proved little).
      const order = allWrites.sort((a, b) => a.updated_at.localeCompare(b.updated_at) || a.unit.localeCompare(b.unit));
      let switches = 0;
      for (let i = 1; i < order.length; i++) if (order[i]?.tag !== order[i - 1]?.tag) switches++;
      expect(switches).toBeGreaterThanOrEqual(3);
      expect(reports.reduce((sum, r) => sum + r.retries, 0)).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  },
  30_000,
);

test(
  "a reader never sees a unit state that was never written (get and list read one snapshot)",
  async () => {
    const path = newPath();
    const reader = Store.open(path);
    try {
      reader.create({ chunk: "C" });
      reader.create({ chunk: "B" });
      // The writer flips B between BLOCKED (blocked_by [C]) and READY (blocked_by []): every
      // committed state has READY <=> no blockers, so a read showing anything else is torn.
      const writer = spawn("flip-blockers.ts", path, "1000");
      await expectLine(writer, "ready");
      let writerEnded = false;
      void writer.proc.exited.then(() => {
        writerEnded = true;
      });
      release(writer);

      const MAX_READS = 100_000;
      let reads = 0;
      const torn: unknown[] = [];
      while (!writerEnded && reads < MAX_READS) {
        for (let i = 0; i < 100; i++, reads++) {
          const got = reader.get("B");
          if ((got.status === "READY") !== (got.blocked_by.length === 0)) torn.push({ via: "get", ...got });
          const listed = reader.list().find((u) => u.chunk === "B");
          if (listed && (listed.status === "READY") !== (listed.blocked_by.length === 0)) {
            torn.push({ via: "list", ...listed });
          }
        }
        // Let the event loop notice the writer's exit (no sleep: just a turn of the loop).
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(await writer.proc.exited).toBe(0);
      expect(await writer.lines.rest()).toEqual(["done"]);
      expect(reads).toBeGreaterThan(500);
      expect(torn.slice(0, 3)).toEqual([]);
      expect(reader.get("B")).toMatchObject({ status: "READY", blocked_by: [] });
    } finally {
      reader.close();
    }
  },
  30_000,
);
