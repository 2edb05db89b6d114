// Text a client sends is stored exactly as it is answered. JSON can carry a lone UTF-16
// surrogate (`"\ud800"`), which UTF-8 (SQLite's text) cannot hold: it must be refused, never
// echoed in the answer and silently stored as U+FFFD.
import { describe, expect, test } from "bun:test";
import { WorkUnit } from "../../src/models/index.ts";
import { expectError, expectOk, fieldOf, send, useApi } from "./helpers.ts";

const setup = useApi("ve-unicode");

/** JSON text of lone surrogates as a client writes them, escaped (a JS string cannot carry them into fetch as UTF-8). */
const LONE = ["\\ud800", "\\udfff", "x\\ud83dy", "\\ude80\\ud83d", "ok\\udbff"];

function post(json: string) {
  return { body: json, headers: { "content-type": "application/json" } };
}

describe("lone surrogates are refused with 400 validation_failed, naming the field", () => {
  for (const lone of LONE) {
    test(`worktree "${lone}" on create`, async () => {
      const { app, store } = setup();
      const reply = await send(app, "POST", "/work-units", post(`{"chunk":"a","worktree":"/w/${lone}"}`));
      expect(fieldOf(expectError(reply, 400, "validation_failed"))).toBe("worktree");
      expect(store.list()).toEqual([]);
    });

    test(`worktree "${lone}" on update`, async () => {
      const { app, store } = setup();
      const before = store.create({ chunk: "a", worktree: "/w/a" });
      const reply = await send(app, "PATCH", "/work-units/a", post(`{"worktree":"${lone}"}`));
      expect(fieldOf(expectError(reply, 400, "validation_failed"))).toBe("worktree");
      expect(store.get("a")).toEqual(before);
    });

    test(`chunk and blocked_by "${lone}"`, async () => {
      const { app, store } = setup();
      store.create({ chunk: "a" });
      expectError(await send(app, "POST", "/work-units", post(`{"chunk":"b${lone}"}`)), 400, "validation_failed");
      const blockers = await send(app, "PATCH", "/work-units/a", post(`{"blocked_by":["c${lone}"]}`));
      expect(String(fieldOf(expectError(blockers, 400, "validation_failed")))).toStartWith("blocked_by");
      expect(store.list().map((u) => u.chunk)).toEqual(["a"]);
    });
  }

  test("the store refuses them too, whoever calls it", () => {
    const { store } = setup();
    expect(() => store.create({ chunk: "a", worktree: "\ud800" })).toThrow(/surrogate/);
    store.create({ chunk: "b" });
    expect(() => store.update("b", { worktree: "a\udc00" })).toThrow(/surrogate/);
    expect(store.get("b").worktree).toBeNull();
  });
});

describe("well-formed text is stored exactly as answered", () => {
  for (const text of ["/w/rocket-\u{1F680}", "/w/caf\u00e9", "/w/\u4e2d\u6587", "/w/\ufffd", "/w/\u{10FFFF}"]) {
    test(JSON.stringify(text), async () => {
      const { app } = setup();
      const created = expectOk<WorkUnit>(await send(app, "POST", "/work-units", { json: { chunk: "a", worktree: text } }), 201, WorkUnit);
      expect(created.worktree).toBe(text);
      const read = expectOk<WorkUnit>(await send(app, "GET", "/work-units/a"), 200, WorkUnit);
      expect(read).toEqual(created);
    });
  }
});
