// A writer killed with SIGKILL in the middle of a stream of creates loses nothing it
// acknowledged, and leaves a database that opens and passes the integrity check.
import { describe, expect, test } from "bun:test";
import { Store } from "../../src/state/store.ts";
import { useChildren, useStores } from "./support.ts";

const { newPath } = useStores("ve-durability");
const spawn = useChildren();

// Far more than the writer can create before it is killed: it must still be writing then.
const STREAM_LENGTH = 200_000;

describe("kill -9 while writing", () => {
  for (const killAfter of [300, 1500]) {
    test(
      `every unit acknowledged before SIGKILL (after ${killAfter} acks) is present; integrity ok`,
      async () => {
        const path = newPath();
        const child = spawn("create-stream.ts", path, String(STREAM_LENGTH));
        const acknowledged: string[] = [];
        while (acknowledged.length < killAfter) {
          const line = await child.lines.next();
          if (line === undefined) throw new Error(`writer ended early: ${await child.stderr}`);
          acknowledged.push(line);
        }
        child.proc.kill("SIGKILL");
        await child.proc.exited;
        // Lines already in the pipe were acknowledged too.
        acknowledged.push(...(await child.lines.rest()));
        expect(child.proc.signalCode).toBe("SIGKILL");
        expect(acknowledged).not.toContain("finished");
        expect(acknowledged.length).toBeGreaterThanOrEqual(killAfter);

        const store = Store.open(path, { check: true });
        try {
          expect(store.db.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
          expect(store.db.query("PRAGMA foreign_key_check").all()).toEqual([]);
          const present = new Set(store.list().map((u) => u.chunk));
          const missing = acknowledged.filter((chunk) => !present.has(chunk));
          expect(missing).toEqual([]);
          // At most the one unit in flight at the kill may exist beyond the acknowledged ones.
          expect(present.size - acknowledged.length).toBeLessThanOrEqual(1);
          // Each unit has its creation row; no half-written unit.
          const logged = store.db.query("SELECT count(*) AS n FROM status_log WHERE old_status IS NULL").get() as {
            n: number;
          };
          expect(logged.n).toBe(present.size);
          for (let i = 2; i < acknowledged.length; i += 3) {
            expect(store.get(`n${i}`)).toMatchObject({ status: "BLOCKED", blocked_by: [`n${i - 1}`], worktree: `/wt/${i}` });
          }
          // The store takes new writes after the crash.
          store.create({ chunk: "after-crash" });
          expect(store.get("after-crash").status).toBe("READY");
        } finally {
          store.close();
        }
      },
      30_000,
    );
  }
});
