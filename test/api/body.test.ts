// Request bodies: JSON only (415 otherwise), at most 1 MiB (413, whether the length is declared
// or the body is a stream without one), and malformed or empty JSON as 400 validation_failed.
// A refused body never changes the store.
import { describe, expect, test } from "bun:test";
import { MAX_BODY_BYTES } from "../../src/api/body.ts";
import { WorkUnit } from "../../src/models/index.ts";
import { byteStream, expectError, expectOk, fieldOf, send, snapshot, useApi } from "./helpers.ts";

const setup = useApi("ve-api-body");
const JSON_TYPE = { "content-type": "application/json" };

test("the limit is 1 MiB", () => {
  expect(MAX_BODY_BYTES).toBe(1024 * 1024);
});

/** A valid create body padded with trailing spaces to exactly `bytes` bytes. */
function paddedCreate(chunk: string, bytes: number): string {
  const json = JSON.stringify({ chunk });
  return json + " ".repeat(bytes - json.length);
}

describe("payload_too_large (413)", () => {
  test("a body over 1 MiB with its Content-Length", async () => {
    const { app, store } = setup();
    const before = snapshot(store);
    const body = paddedCreate("big", MAX_BODY_BYTES + 1);
    const headers = { ...JSON_TYPE, "content-length": String(body.length) };
    const error = expectError(await send(app, "POST", "/work-units", { body, headers }), 413, "payload_too_large");
    expect(error.details).toEqual({ limit_bytes: MAX_BODY_BYTES });
    expect(snapshot(store)).toEqual(before);
  });

  test("a declared Content-Length over 1 MiB is refused before reading", async () => {
    const { app, store } = setup();
    const headers = { ...JSON_TYPE, "content-length": String(MAX_BODY_BYTES + 1) };
    expectError(await send(app, "POST", "/work-units", { body: '{"chunk":"small"}', headers }), 413, "payload_too_large");
    expect(store.list()).toEqual([]);
  });

  test("a body over 1 MiB without any Content-Length (a string body)", async () => {
    const { app, store } = setup();
    const body = paddedCreate("big", MAX_BODY_BYTES + 1);
    expectError(await send(app, "POST", "/work-units", { body, headers: JSON_TYPE }), 413, "payload_too_large");
    expect(store.list()).toEqual([]);
  });

  test("a streamed body over 1 MiB (no Content-Length), on POST and on PATCH", async () => {
    const { app, store } = setup();
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "a" } }), 201, WorkUnit);
    const before = snapshot(store);
    const post = await send(app, "POST", "/work-units", {
      body: byteStream(MAX_BODY_BYTES + 1),
      headers: JSON_TYPE,
      duplex: "half",
    });
    expectError(post, 413, "payload_too_large");
    const patch = await send(app, "PATCH", "/work-units/a", {
      body: byteStream(4 * MAX_BODY_BYTES, 1000),
      headers: JSON_TYPE,
      duplex: "half",
    });
    expectError(patch, 413, "payload_too_large");
    expect(snapshot(store)).toEqual(before);
  });

  test("exactly 1 MiB is accepted, declared and streamed", async () => {
    const { app } = setup();
    const body = paddedCreate("edge", MAX_BODY_BYTES);
    const declared = { ...JSON_TYPE, "content-length": String(body.length) };
    expectOk(await send(app, "POST", "/work-units", { body, headers: declared }), 201, WorkUnit);
    const stream = new Blob([paddedCreate("edge2", MAX_BODY_BYTES)]).stream();
    expectOk(await send(app, "POST", "/work-units", { body: stream, headers: JSON_TYPE, duplex: "half" }), 201, WorkUnit);
  });
});

describe("unsupported_media_type (415)", () => {
  const cases: { name: string; headers: Record<string, string>; body: string }[] = [
    { name: "text/plain", headers: { "content-type": "text/plain" }, body: '{"chunk":"x"}' },
    { name: "text/plain with a charset", headers: { "content-type": "text/plain; charset=utf-8" }, body: '{"chunk":"x"}' },
    { name: "form-urlencoded", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "chunk=x" },
    { name: "multipart", headers: { "content-type": "multipart/form-data; boundary=b" }, body: '--b\r\n\r\n{"chunk":"x"}\r\n--b--' },
    { name: "application/xml", headers: { "content-type": "application/xml" }, body: "<chunk>x</chunk>" },
    { name: "a +json suffix type", headers: { "content-type": "application/vnd.api+json" }, body: '{"chunk":"x"}' },
    { name: "no content type with a non-empty body", headers: {}, body: '{"chunk":"x"}' },
  ];
  for (const { name, headers, body } of cases) {
    test(`POST and PATCH with ${name}`, async () => {
      const { app, store } = setup();
      expectOk(await send(app, "POST", "/work-units", { json: { chunk: "a" } }), 201, WorkUnit);
      const before = snapshot(store);
      // A Blob body gets `text/plain` from fetch by default; an ArrayBuffer gets no content type.
      const bytes = new TextEncoder().encode(body).buffer as ArrayBuffer;
      const error = expectError(await send(app, "POST", "/work-units", { body: bytes, headers }), 415, "unsupported_media_type");
      const declared = headers["content-type"]?.split(";")[0] ?? null;
      expect(error.details).toEqual({ content_type: declared });
      expectError(await send(app, "PATCH", "/work-units/a", { body: bytes, headers }), 415, "unsupported_media_type");
      expect(snapshot(store)).toEqual(before);
    });
  }

  test("application/json with parameters and in any case is accepted", async () => {
    const { app } = setup();
    for (const [chunk, type] of [
      ["c1", "application/json; charset=utf-8"],
      ["c2", "Application/JSON"],
      ["c3", "application/json;charset=UTF-8"],
    ] as const) {
      expectOk(await send(app, "POST", "/work-units", { body: JSON.stringify({ chunk }), headers: { "content-type": type } }), 201, WorkUnit);
    }
  });
});

describe("bodies that are not a JSON object (400 validation_failed, field body)", () => {
  const cases: { name: string; body: string | Uint8Array }[] = [
    { name: "empty", body: "" },
    { name: "only whitespace", body: "   \n" },
    { name: "truncated", body: '{"chunk":"a"' },
    { name: "a trailing comma", body: '{"chunk":"a",}' },
    { name: "single quotes", body: "{'chunk':'a'}" },
    { name: "invalid UTF-8", body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
    { name: "an array", body: '["a"]' },
    { name: "a string", body: '"a"' },
    { name: "null", body: "null" },
  ];
  for (const { name, body } of cases) {
    test(name, async () => {
      const { app, store } = setup();
      expectOk(await send(app, "POST", "/work-units", { json: { chunk: "a" } }), 201, WorkUnit);
      const before = snapshot(store);
      const payload = typeof body === "string" ? body : (body.buffer as ArrayBuffer);
      for (const [method, path] of [
        ["POST", "/work-units"],
        ["PATCH", "/work-units/a"],
      ] as const) {
        const error = expectError(await send(app, method, path, { body: payload, headers: JSON_TYPE }), 400, "validation_failed");
        expect(fieldOf(error)).toBe("body");
      }
      expect(snapshot(store)).toEqual(before);
    });
  }

});

describe("deep nesting", () => {
  // Found by this suite: past ~23k levels (46 KB, far inside the 1 MiB limit) Elysia's
  // ValidationError overflowed the stack in JSON.stringify and the answer was a 500; below
  // that, 10k-20k levels took 0.6-6 s of CPU. Now refused before parsing, naming the body
  // (the structure is not parsed, so no deeper field can be named).
  test("a deeply nested value (50k levels, 100 KB) is a 400, not a 500", async () => {
    const { app, store, logged } = setup();
    const depth = 50_000;
    const body = `{"chunk":"d","worktree":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    const before = snapshot(store);
    const reply = await send(app, "POST", "/work-units", { body, headers: JSON_TYPE });
    const where = `${reply.status} ${reply.text.slice(0, 200)} ${logged[0]?.slice(0, 300) ?? ""}`;
    expect(reply.status, where).toBe(400);
    expect(fieldOf(expectError(reply, 400, "validation_failed"))).toBe("body");
    expect(snapshot(store)).toEqual(before);
  }, 30_000);

  test("nesting up to the limit is parsed and validated as usual", async () => {
    const { app, store } = setup();
    const within = `{"chunk":"d","worktree":${"[".repeat(31)}${"]".repeat(31)}}`;
    const reply = await send(app, "POST", "/work-units", { body: within, headers: JSON_TYPE });
    expect(fieldOf(expectError(reply, 400, "validation_failed"))).toBe("worktree");
    const brackets = JSON.stringify({ chunk: "brackets", worktree: `/tmp/${"[{".repeat(100)}` });
    expect((await send(app, "POST", "/work-units", { body: brackets, headers: JSON_TYPE })).status).toBe(201);
    expect(store.get("brackets").worktree).toBe(`/tmp/${"[{".repeat(100)}`);
  });
});

test("a body on GET and DELETE is ignored, whatever its type", async () => {
  const { app } = setup();
  expectOk(await send(app, "POST", "/work-units", { json: { chunk: "a" } }), 201, WorkUnit);
  const headers = { "content-type": "text/plain" };
  expectOk(await send(app, "GET", "/work-units/a", { body: "junk", headers }), 200, WorkUnit);
  expect((await send(app, "DELETE", "/work-units/a", { body: "junk", headers })).status).toBe(200);
});
