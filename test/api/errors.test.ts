// Every error code of DESIGN.md "HTTP API" that routing, validation and the store produce, each
// from a real request, with its HTTP status, an ErrorBody, `application/json` and X-Ve-Version.
// (Bodies: body.test.ts. Origin, Host and token: access.test.ts.)
import { describe, expect, test } from "bun:test";
import { Deleted, History, WorkUnit, WorkUnitChanged } from "../../src/models/index.ts";
import { VERSION, expectError, expectOk, fieldOf, send, snapshot, useApi } from "./helpers.ts";

const setup = useApi("ve-api-errors");

async function create(app: ReturnType<typeof setup>["app"], json: Record<string, unknown>): Promise<WorkUnit> {
  return expectOk<WorkUnit>(await send(app, "POST", "/work-units", { json }), 201, WorkUnit);
}

describe("validation_failed (400) names the offending field", () => {
  test("a body field of the wrong type", async () => {
    const { app } = setup();
    const error = expectError(await send(app, "POST", "/work-units", { json: { chunk: "a", phase: 3 } }), 400, "validation_failed");
    expect(fieldOf(error)).toBe("phase");
    expect(error.message).toContain("phase");
  });

  test("a missing required field", async () => {
    const { app } = setup();
    expect(fieldOf(expectError(await send(app, "POST", "/work-units", { json: {} }), 400, "validation_failed"))).toBe("chunk");
  });

  test("an unknown body field", async () => {
    const { app } = setup();
    await create(app, { chunk: "a" });
    const error = expectError(await send(app, "PATCH", "/work-units/a", { json: { colour: "red" } }), 400, "validation_failed");
    expect(fieldOf(error)).toBe("colour");
  });

  test("an element of blocked_by", async () => {
    const { app } = setup();
    const error = expectError(
      await send(app, "POST", "/work-units", { json: { chunk: "a", blocked_by: ["ok", "not ok"] } }),
      400,
      "validation_failed",
    );
    expect(fieldOf(error)).toBe("blocked_by[1]");
  });

  test("a bad filter value and an unknown filter", async () => {
    const { app } = setup();
    expect(fieldOf(expectError(await send(app, "GET", "/work-units?status=DOING"), 400, "validation_failed"))).toBe("status");
    expect(fieldOf(expectError(await send(app, "GET", "/work-units?phase=goal"), 400, "validation_failed"))).toBe("phase");
    expect(fieldOf(expectError(await send(app, "GET", "/work-units?owner=me"), 400, "validation_failed"))).toBe("owner");
  });

  test("a bad chunk in the path is named `chunk`", async () => {
    const { app } = setup();
    expect(fieldOf(expectError(await send(app, "GET", "/work-units/-x"), 400, "validation_failed"))).toBe("chunk");
    expect(fieldOf(expectError(await send(app, "DELETE", "/work-units/x.lock"), 400, "validation_failed"))).toBe("chunk");
  });

  test("malformed JSON names the body", async () => {
    const { app } = setup();
    const error = expectError(
      await send(app, "POST", "/work-units", { body: '{"chunk": ', headers: { "content-type": "application/json" } }),
      400,
      "validation_failed",
    );
    expect(fieldOf(error)).toBe("body");
  });
});

describe("routing", () => {
  test("unknown_route (404) for paths no route has", async () => {
    const { app } = setup();
    for (const path of ["/", "/nope", "/work-unit", "/work-units/a/history/x", "/status/x", "/api/status"]) {
      const error = expectError(await send(app, "GET", path), 404, "unknown_route");
      expect(error.message.length).toBeGreaterThan(0);
    }
    expectError(await send(app, "POST", "/nope", { json: {} }), 404, "unknown_route");
  });

  test("not_found (404) is an unknown unit, distinct from an unknown route", async () => {
    const { app } = setup();
    const error = expectError(await send(app, "GET", "/work-units/ghost"), 404, "not_found");
    expect(error.message).toContain("ghost");
  });

  const wrongMethods: { path: string; method: string; allow: string[] }[] = [
    { path: "/status", method: "POST", allow: ["GET"] },
    { path: "/status", method: "DELETE", allow: ["GET"] },
    { path: "/work-units", method: "DELETE", allow: ["GET", "POST"] },
    { path: "/work-units", method: "PUT", allow: ["GET", "POST"] },
    { path: "/work-units", method: "PATCH", allow: ["GET", "POST"] },
    { path: "/work-units/a", method: "PUT", allow: ["GET", "PATCH", "DELETE"] },
    { path: "/work-units/a", method: "POST", allow: ["GET", "PATCH", "DELETE"] },
    { path: "/work-units/a", method: "OPTIONS", allow: ["GET", "PATCH", "DELETE"] },
    { path: "/work-units/a/history", method: "POST", allow: ["GET"] },
    { path: "/work-units/a/history", method: "DELETE", allow: ["GET"] },
  ];
  for (const { path, method, allow } of wrongMethods) {
    test(`method_not_allowed (405): ${method} ${path} lists ${allow.join(", ")} in Allow`, async () => {
      const { app, store } = setup();
      await create(app, { chunk: "a" });
      const before = snapshot(store);
      const reply = await send(app, method, path, { json: { status: "DONE" } });
      expectError(reply, 405, "method_not_allowed");
      const header = (reply.headers.get("allow") ?? "").split(",").map((m) => m.trim());
      expect(header.sort()).toEqual([...allow].sort());
      expect(snapshot(store)).toEqual(before);
    });
  }
});

describe("conflicts (409)", () => {
  test("already_exists", async () => {
    const { app, store } = setup();
    await create(app, { chunk: "a" });
    const before = snapshot(store);
    expectError(await send(app, "POST", "/work-units", { json: { chunk: "a", status: "DONE" } }), 409, "already_exists");
    expect(snapshot(store)).toEqual(before);
  });

  test("invalid_transition: a refused status change and a backward phase, without force", async () => {
    const { app, store } = setup();
    await create(app, { chunk: "d", status: "DONE" });
    await create(app, { chunk: "p", phase: "IMPLEMENT" });
    const before = snapshot(store);
    const error = expectError(await send(app, "PATCH", "/work-units/d", { json: { status: "RUNNING" } }), 409, "invalid_transition");
    expect(error.details).toMatchObject({ from: "DONE", to: "RUNNING" });
    expectError(await send(app, "PATCH", "/work-units/p", { json: { phase: "PLAN" } }), 409, "invalid_transition");
    expect(snapshot(store)).toEqual(before);
  });

  test("blocked: READY or RUNNING while a blocker is unfinished, on create and on update", async () => {
    const { app, store } = setup();
    await create(app, { chunk: "base" });
    await create(app, { chunk: "dep", blocked_by: ["base"] });
    const before = snapshot(store);
    expectError(await send(app, "POST", "/work-units", { json: { chunk: "x", status: "READY", blocked_by: ["base"] } }), 409, "blocked");
    expectError(await send(app, "POST", "/work-units", { json: { chunk: "y", status: "RUNNING", blocked_by: ["ghost"] } }), 409, "blocked");
    expectError(await send(app, "PATCH", "/work-units/dep", { json: { status: "READY" } }), 409, "blocked");
    // force overrides the transition table, never the dependency rule
    expectError(await send(app, "PATCH", "/work-units/dep", { json: { status: "RUNNING", force: true } }), 409, "blocked");
    expect(snapshot(store)).toEqual(before);
  });

  test("dependency_cycle: self-reference, a direct and an indirect cycle", async () => {
    const { app, store } = setup();
    await create(app, { chunk: "a" });
    await create(app, { chunk: "b", blocked_by: ["a"] });
    await create(app, { chunk: "c", blocked_by: ["b"] });
    const before = snapshot(store);
    expectError(await send(app, "POST", "/work-units", { json: { chunk: "s", blocked_by: ["s"] } }), 409, "dependency_cycle");
    expectError(await send(app, "PATCH", "/work-units/a", { json: { blocked_by: ["a"] } }), 409, "dependency_cycle");
    expectError(await send(app, "PATCH", "/work-units/a", { json: { blocked_by: ["b"] } }), 409, "dependency_cycle");
    const error = expectError(await send(app, "PATCH", "/work-units/a", { json: { blocked_by: ["c"] } }), 409, "dependency_cycle");
    expect(error.details).toMatchObject({ cycle: ["a", "c", "b", "a"] });
    expect(snapshot(store)).toEqual(before);
  });

  test("dependency_cycle through a name that is not a unit yet", async () => {
    const { app, store } = setup();
    await create(app, { chunk: "a", blocked_by: ["later"] });
    const before = snapshot(store);
    expectError(await send(app, "POST", "/work-units", { json: { chunk: "later", blocked_by: ["a"] } }), 409, "dependency_cycle");
    expect(snapshot(store)).toEqual(before);
  });

  test("has_dependents: DELETE without force is refused; with force=true it succeeds and releases them", async () => {
    const { app, store } = setup();
    await create(app, { chunk: "base" });
    await create(app, { chunk: "only", blocked_by: ["base"] });
    await create(app, { chunk: "two", blocked_by: ["base", "other"] });
    const before = snapshot(store);
    const error = expectError(await send(app, "DELETE", "/work-units/base"), 409, "has_dependents");
    expect(error.details).toMatchObject({ chunk: "base", dependents: ["only", "two"] });
    expectError(await send(app, "DELETE", "/work-units/base?force=false"), 409, "has_dependents");
    expect(snapshot(store)).toEqual(before);

    expectOk(await send(app, "DELETE", "/work-units/base?force=true"), 200, Deleted);
    expectError(await send(app, "GET", "/work-units/base"), 404, "not_found");
    expect(store.get("only")).toMatchObject({ status: "READY", blocked_by: [] });
    expect(store.get("two")).toMatchObject({ status: "BLOCKED", blocked_by: ["other"] });
    const rows = expectOk<History>(await send(app, "GET", "/work-units/only/history"), 200, History).history;
    expect(rows.at(-1)).toMatchObject({ old_status: "BLOCKED", new_status: "READY" });
    expect(rows.at(-1)?.reason ?? "").toContain("base");
  });

  test("stale_write: expected_updated_at that is not the current updated_at", async () => {
    const { app, store } = setup();
    const first = await create(app, { chunk: "a" });
    const second = expectOk<WorkUnitChanged>(await send(app, "PATCH", "/work-units/a", { json: { phase: "PLAN" } }), 200, WorkUnitChanged);
    expect(second.updated_at).not.toBe(first.updated_at);
    const before = snapshot(store);
    const error = expectError(
      await send(app, "PATCH", "/work-units/a", { json: { status: "DONE", expected_updated_at: first.updated_at } }),
      409,
      "stale_write",
    );
    expect(error.details).toMatchObject({ expected_updated_at: first.updated_at, updated_at: second.updated_at });
    expectError(
      await send(app, "PATCH", "/work-units/a", { json: { status: "DONE", expected_updated_at: "2000-01-01T00:00:00.000Z" } }),
      409,
      "stale_write",
    );
    expect(snapshot(store)).toEqual(before);
    expectOk(await send(app, "PATCH", "/work-units/a", { json: { status: "DONE", expected_updated_at: second.updated_at } }), 200, WorkUnitChanged);
  });
});

describe("internal (500)", () => {
  test("a failing store gives `internal`, and logError receives the stack", async () => {
    const { app, store, logged } = setup();
    store.close();
    for (const [method, path] of [
      ["GET", "/status"],
      ["GET", "/work-units"],
      ["GET", "/work-units/a"],
    ] as const) {
      const error = expectError(await send(app, method, path), 500, "internal");
      expect(error.message).not.toContain("closed"); // the details go to the log, not to the caller
    }
    expect(logged).toHaveLength(3);
    for (const line of logged) {
      expect(line).toContain("internal error on GET");
      expect(line).toMatch(/\n\s+at /); // a stack trace, not only a message
    }
  });
});

test("every answer, success or error, carries X-Ve-Version", async () => {
  const { app } = setup();
  const replies = [
    await send(app, "GET", "/status"),
    await send(app, "POST", "/work-units", { json: { chunk: "v" } }),
    await send(app, "GET", "/work-units/v"),
    await send(app, "GET", "/nope"),
    await send(app, "PUT", "/status"),
    await send(app, "POST", "/work-units", { body: "x", headers: { "content-type": "text/plain" } }),
  ];
  expect(replies.map((r) => r.status)).toEqual([200, 201, 200, 404, 405, 415]);
  for (const reply of replies) expect(reply.headers.get("x-ve-version")).toBe(VERSION);
});
