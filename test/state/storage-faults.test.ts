// A disk that refuses writes is an expected condition (DESIGN.md: "A full disk is 507
// storage_full; reads keep being answered while writes are refused"): the store reports it as
// a typed error naming the database, loses nothing it acknowledged, keeps answering reads,
// and takes writes again once there is room.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { httpStatusOf } from "../../src/api/errors.ts";
import { VeError } from "../../src/errors.ts";
import { Store } from "../../src/state/store.ts";
import { thrownVeError } from "../helpers/errors.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { useTmpfs } from "../helpers/tmpfs.ts";

const mountTmpfs = useTmpfs();
const tempDir = useTempDirs("ve-storage");
const BIG = "w".repeat(4000);

describe("a full disk under the store", () => {
  test("writes fail with storage_full (507) naming the file, reads go on, nothing acknowledged is lost", () => {
    const fs = mountTmpfs(512 * 1024);
    if (typeof fs === "string") {
      console.log(`skipped: ${fs}`);
      return;
    }
    const path = join(fs.dir, "orchestrator.db");
    const store = Store.open(path, { exclusive: true, check: true });
    const acknowledged: string[] = [];
    let refusal: VeError | undefined;
    // Bounded: 512 KiB hold far fewer than 1000 units of 4 KB.
    for (let i = 0; i < 1000 && !refusal; i++) {
      try {
        store.create({ chunk: `u${i}`, worktree: BIG });
        acknowledged.push(`u${i}`);
      } catch (error) {
        if (!(error instanceof VeError)) throw error;
        refusal = error;
      }
    }
    expect(refusal?.code).toBe("storage_full");
    expect(refusal?.message).toContain(path);
    expect(httpStatusOf(refusal as VeError)).toBe(507);
    expect(acknowledged.length).toBeGreaterThan(0);
    // Other writes are refused the same way, and reads keep being answered.
    expect(thrownVeError(() => store.update("u0", { status: "RUNNING" })).code).toBe("storage_full");
    expect(thrownVeError(() => store.delete("u0")).code).toBe("storage_full");
    expect(store.get("u0").status).toBe("READY");
    expect(store.list().map((u) => u.chunk)).toEqual(acknowledged);
    expect(store.history("u0").length).toBe(1);
    // A close on a full disk cannot checkpoint; the WAL keeps every commit.
    try {
      store.close();
    } catch {}
    // Opening on the full disk is the same typed refusal, not a crash.
    const reopenFull = thrownVeError(() => Store.open(path, { exclusive: true, check: true }));
    expect(reopenFull.code).toBe("storage_full");
    expect(reopenFull.message).toContain(path);
    fs.resize(4 * 1024 * 1024);
    const reopened = Store.open(path, { exclusive: true, check: true });
    try {
      expect(reopened.list().map((u) => u.chunk)).toEqual(acknowledged);
      expect(reopened.db.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
    } finally {
      reopened.close();
    }
  });

  test("once there is room again, writes are taken and the file is intact", () => {
    const fs = mountTmpfs(1024 * 1024);
    if (typeof fs === "string") {
      console.log(`skipped: ${fs}`);
      return;
    }
    const path = join(fs.dir, "orchestrator.db");
    const store = Store.open(path, { exclusive: true, check: true });
    try {
      store.create({ chunk: "before" });
      const filler = fs.fill();
      let refused = 0;
      for (let i = 0; i < 50; i++) {
        try {
          store.create({ chunk: `x${i}`, worktree: BIG });
        } catch (error) {
          expect((error as VeError).code).toBe("storage_full");
          refused++;
        }
      }
      expect(refused).toBeGreaterThan(0);
      rmSync(filler);
      store.create({ chunk: "after" });
      expect(store.get("after").chunk).toBe("after");
    } finally {
      store.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(db.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
    } finally {
      db.close();
    }
  });
});

describe("a disk the store may not write", () => {
  test("a read-only database directory: opening is storage_unavailable naming the file, not 'this is a bug'", () => {
    if (process.getuid?.() === 0) {
      // root ignores modes; a read-only mount shows the same class. (Room for the whole schema
      // and its WAL: the mount must not be full, only read-only.)
      const fs = mountTmpfs(2 * 1024 * 1024);
      if (typeof fs === "string") {
        console.log(`skipped: ${fs}`);
        return;
      }
      const path = join(fs.dir, "orchestrator.db");
      Store.open(path).close();
      expect(Bun.spawnSync(["mount", "-o", "remount,ro", fs.dir]).exitCode).toBe(0);
      try {
        const error = thrownVeError(() => Store.open(path, { exclusive: true }));
        expect(["storage_unavailable", "database_unavailable"]).toContain(error.code);
        expect(error.message).toContain(path);
        expect(httpStatusOf(error)).toBe(503);
      } finally {
        Bun.spawnSync(["mount", "-o", "remount,rw", fs.dir]);
      }
      return;
    }
    const dir = join(tempDir(), "ro");
    mkdirSync(dir);
    const path = join(dir, "orchestrator.db");
    Store.open(path).close();
    chmodSync(dir, 0o500);
    try {
      const error = thrownVeError(() => Store.open(path, { exclusive: true }));
      expect(error.message).toContain(path);
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});
