// The daemon's store is exclusive, so the app keeps answers to reads until the next write.
// Whatever it keeps, a read must always show the latest committed state.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { CACHE_MAX_CHARS, CACHE_MAX_ENTRY_CHARS, ReadCache } from "../../src/api/cache.ts";
import { createApp } from "../../src/api/app.ts";
import { Store } from "../../src/state/store.ts";
import { useTempDirs } from "../helpers/temp.ts";

const tempDir = useTempDirs("ve-cache");

function exclusiveApp() {
  const dir = tempDir();
  const store = Store.open(join(dir, "orchestrator.db"), { exclusive: true });
  const app = createApp(store, {
    pid: 1,
    version: "1.2.3",
    startedAt: new Date(),
    projectDir: dir,
    transport: "unix",
    socket: join(dir, "s.sock"),
    port: null,
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await app.handle(
      new Request(`http://localhost${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
      }),
    );
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { store, call };
}

describe("answers kept between writes", () => {
  test("every read after a write shows the write: list, filters, unit, history, counts", async () => {
    const { store, call } = exclusiveApp();
    try {
      expect((await call("GET", "/work-units")).body.count).toBe(0);
      await call("POST", "/work-units", { chunk: "a" });
      await call("POST", "/work-units", { chunk: "b", blocked_by: ["a"] });
      const listed = await call("GET", "/work-units");
      expect(listed.body.count).toBe(2);
      expect((await call("GET", "/work-units?status=BLOCKED")).body.count).toBe(1);
      expect((await call("GET", "/work-units/b")).body.status).toBe("BLOCKED");
      expect(((await call("GET", "/work-units/b/history")).body.history as unknown[]).length).toBe(1);
      expect(((await call("GET", "/status")).body.work_unit_counts as Record<string, number>).BLOCKED).toBe(1);

      // One write changes several answers at once (b is released when a is DONE).
      expect((await call("PATCH", "/work-units/a", { status: "DONE" })).status).toBe(200);
      expect((await call("GET", "/work-units/b")).body.status).toBe("READY");
      expect((await call("GET", "/work-units?status=BLOCKED")).body.count).toBe(0);
      expect(((await call("GET", "/work-units/b/history")).body.history as unknown[]).length).toBe(2);
      const counts = (await call("GET", "/status")).body.work_unit_counts as Record<string, number>;
      expect([counts.BLOCKED, counts.READY, counts.DONE]).toEqual([0, 1, 1]);

      expect((await call("DELETE", "/work-units/b")).status).toBe(200);
      expect((await call("GET", "/work-units/b")).status).toBe(404);
      expect((await call("GET", "/work-units")).body.count).toBe(1);
    } finally {
      store.close();
    }
  });

  test("a refused write changes nothing, and the answers stay right", async () => {
    const { store, call } = exclusiveApp();
    try {
      await call("POST", "/work-units", { chunk: "a" });
      const before = await call("GET", "/work-units/a");
      expect((await call("PATCH", "/work-units/a", { status: "BLOCKED", phase: "GOAL" })).status).toBe(200);
      expect((await call("PATCH", "/work-units/a", { status: "RUNNING" })).status).toBe(409);
      const after = await call("GET", "/work-units/a");
      expect(after.body.status).toBe("BLOCKED");
      expect(after.body.updated_at).not.toBe(before.body.updated_at);
    } finally {
      store.close();
    }
  });

  test("a change made through the store, not the API (as the scheduler will), reaches the next read", async () => {
    const { store, call } = exclusiveApp();
    try {
      await call("POST", "/work-units", { chunk: "a" });
      expect((await call("GET", "/work-units/a")).body.status).toBe("READY");
      store.update("a", { status: "RUNNING" });
      expect((await call("GET", "/work-units/a")).body.status).toBe("RUNNING");
      expect((await call("GET", "/work-units?status=RUNNING")).body.count).toBe(1);
    } finally {
      store.close();
    }
  });

  test("a store shared with other processes is never cached", () => {
    const dir = tempDir();
    const shared = Store.open(join(dir, "shared.db"));
    try {
      expect(shared.exclusive).toBe(false);
    } finally {
      shared.close();
    }
  });
});

describe("ReadCache", () => {
  test("builds once per key until cleared; a disabled cache builds every time", () => {
    const cache = new ReadCache();
    let builds = 0;
    const build = () => `text ${++builds}`;
    expect(cache.read("k", build)).toBe("text 1");
    expect(cache.read("k", build)).toBe("text 1");
    expect(cache.read("other", build)).toBe("text 2");
    cache.clear();
    expect(cache.read("k", build)).toBe("text 3");
    const off = new ReadCache(false);
    expect(off.read("k", build)).toBe("text 4");
    expect(off.read("k", build)).toBe("text 5");
  });

  test("an answer over the entry limit is not kept, and the total stays bounded", () => {
    const cache = new ReadCache();
    let builds = 0;
    const big = () => {
      builds++;
      return "x".repeat(CACHE_MAX_ENTRY_CHARS + 1);
    };
    cache.read("big", big);
    cache.read("big", big);
    expect(builds).toBe(2);

    let small = 0;
    const entry = "y".repeat(Math.floor(CACHE_MAX_ENTRY_CHARS / 2));
    const count = Math.ceil(CACHE_MAX_CHARS / entry.length) + 2;
    for (let i = 0; i < count; i++) cache.read(`k${i}`, () => (small++, entry));
    for (let i = 0; i < count; i++) cache.read(`k${i}`, () => (small++, entry));
    // Those that fitted were answered from the cache the second time; the rest were rebuilt.
    const kept = Math.floor(CACHE_MAX_CHARS / entry.length);
    expect(small).toBe(count + (count - kept));
  });
});
