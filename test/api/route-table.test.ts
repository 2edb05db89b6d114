// The 405 answer and its Allow header come from the registered routes (route-table.ts), not
// from a list kept beside them: every registered path refuses the methods it lacks, naming
// exactly the ones registered for it.
import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { jsonResponse } from "../../src/api/respond.ts";
import { MethodTable } from "../../src/api/route-table.ts";
import { ROUTE_GROUPS } from "../../src/api/routes/index.ts";
import { VERSION, expectError, send, useApi } from "./helpers.ts";

const setup = useApi("ve-api-route-table");
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

describe("MethodTable", () => {
  const table = new MethodTable([
    { method: "GET", path: "/work-units/:chunk" },
    { method: "DELETE", path: "/work-units/:chunk" },
    { method: "POST", path: "/work-units/claim" },
    { method: "GET", path: "/files/*" },
  ]);

  test("a parameter matches one segment, never a slash", () => {
    expect(table.allowed("/work-units/a")).toEqual(["GET", "DELETE"]);
    expect(table.allowed("/work-units/a/b")).toEqual([]);
    expect(table.allowed("/work-units")).toEqual([]);
  });

  test("a static path that a parameter also matches gets both routes' methods", () => {
    expect(table.allowed("/work-units/claim")).toEqual(["GET", "POST", "DELETE"]);
  });

  test("a wildcard matches the rest of the path; regex characters in a path are literal", () => {
    expect(table.allowed("/files/a/b.txt")).toEqual(["GET"]);
    expect(new MethodTable([{ method: "GET", path: "/a.b" }]).allowed("/aXb")).toEqual([]);
  });
});

describe("405 from the app's own routes", () => {
  test("each registered path refuses every other method with exactly its registered methods in Allow", async () => {
    const { app } = setup();
    const byPath = new Map<string, Set<string>>();
    for (const route of app.routes) byPath.set(route.path, (byPath.get(route.path) ?? new Set()).add(route.method));
    expect(byPath.size).toBeGreaterThan(0);
    for (const [path, registered] of byPath) {
      const concrete = path.replace(/:[^/]+/g, "some-unit");
      for (const method of METHODS.filter((m) => !registered.has(m))) {
        const reply = await send(app, method, concrete, method === "GET" ? {} : { json: {} });
        const error = expectError(reply, 405, "method_not_allowed");
        const allow = (reply.headers.get("allow") ?? "").split(", ");
        expect(new Set(allow), `${method} ${concrete}`).toEqual(registered);
        expect((error.details as { allow: string[] }).allow).toEqual(allow);
      }
    }
  });
});

describe("access per route group", () => {
  test("each group's rule applies under its prefix only; the JSON API keeps refusing browsers", async () => {
    const seen: string[] = [];
    const pages = () =>
      new Elysia({ normalize: false }).get("/dashboard/home", () => jsonResponse("{}", VERSION));
    const groups = [
      ...ROUTE_GROUPS,
      { name: "dashboard", prefix: "/dashboard", access: (r: Request) => void seen.push(r.url), plugins: [pages] },
    ];
    const { app } = setup({ groups });
    const browser = { headers: { origin: "http://evil.example" } };
    expect((await send(app, "GET", "/dashboard/home", browser)).status).toBe(200);
    expect(seen).toEqual(["http://localhost/dashboard/home"]);
    expectError(await send(app, "GET", "/status", browser), 403, "forbidden");
    expectError(await send(app, "GET", "/dashboardx", browser), 403, "forbidden");
  });

  test("a plugin registering a route outside its group's prefix is refused when the app is built", () => {
    const stray = () => new Elysia({ normalize: false }).get("/status2", () => "x");
    expect(() => setup({ groups: [...ROUTE_GROUPS, { name: "x", prefix: "/x", access: () => {}, plugins: [stray] }] })).toThrow(
      /outside its group/,
    );
  });
});
