import { describe, expect, test } from "bun:test";
import {
  CODE_TTL_MS,
  DashboardAccess,
  allowedHosts,
  cookieValue,
  hostAllowed,
  originAllowed,
} from "../../src/dashboard/access.ts";

const HOSTS = allowedHosts(4100);

describe("allowedHosts", () => {
  test.each([
    [undefined, ["127.0.0.1:4100", "localhost:4100"]],
    ["127.0.0.1", ["127.0.0.1:4100", "localhost:4100"]],
    ["0.0.0.0", ["127.0.0.1:4100", "localhost:4100"]],
    ["100.64.1.2", ["127.0.0.1:4100", "localhost:4100", "100.64.1.2:4100"]],
    ["fd00::1", ["127.0.0.1:4100", "localhost:4100", "[fd00::1]:4100"]],
  ] as const)("listen %p", (listen, hosts) => {
    expect(allowedHosts(4100, listen)).toEqual([...hosts]);
  });
});

describe("hostAllowed", () => {
  test.each([
    ["127.0.0.1:4100", true],
    ["LOCALHOST:4100", true],
    ["127.0.0.1:4101", false],
    ["127.0.0.1", false],
    ["evil.example:4100", false],
    [null, false],
  ] as const)("%p", (host, ok) => {
    expect(hostAllowed(host, HOSTS)).toBe(ok);
  });
});

describe("originAllowed", () => {
  test.each([
    ["GET", null, true],
    ["HEAD", "http://evil.example", true],
    ["POST", "http://127.0.0.1:4100", true],
    ["POST", "http://localhost:4100", true],
    ["POST", null, false],
    ["POST", "http://evil.example", false],
    ["POST", "https://127.0.0.1:4100", false],
    ["DELETE", "http://127.0.0.1:4101", false],
    ["PATCH", "null", false],
  ] as const)("%s from %p", (method, origin, ok) => {
    expect(originAllowed(method, origin, HOSTS)).toBe(ok);
  });
});

describe("cookieValue", () => {
  test.each([
    [null, undefined],
    ["", undefined],
    ["ve_dashboard=abc", "abc"],
    ["a=1; ve_dashboard=abc; b=2", "abc"],
    ["xve_dashboard=abc", undefined],
  ] as const)("%p", (header, value) => {
    expect(cookieValue(header, "ve_dashboard")).toBe(value);
  });
});

function get(path: string, headers: Record<string, string> = {}): Request {
  return new Request(`http://127.0.0.1:4100${path}`, { headers: { host: "127.0.0.1:4100", ...headers } });
}

describe("DashboardAccess", () => {
  test("a code logs in once, drops itself from the address, and its cookie then passes", () => {
    const access = new DashboardAccess();
    const code = access.mintCode();
    const login = access.decide(get(`/units?code=${code}&x=1`), HOSTS);
    if (login.kind !== "login") throw new Error(`expected a login, got ${login.kind}`);
    expect(login.location).toBe("/units?x=1");
    expect(login.cookie).toMatch(/^ve_dashboard=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/$/);
    const session = login.cookie.split(";")[0]!;
    expect(access.decide(get("/", { cookie: session }), HOSTS).kind).toBe("pass");
    const again = access.decide(get(`/?code=${code}`), HOSTS);
    expect(again.kind).toBe("refuse");
    if (again.kind === "refuse") expect(again.error.message).toContain("ve orch dashboard");
  });

  test("an expired code is refused", () => {
    let now = 1_000;
    const access = new DashboardAccess(() => now);
    const code = access.mintCode();
    now += CODE_TTL_MS + 1;
    expect(access.decide(get(`/?code=${code}`), HOSTS).kind).toBe("refuse");
  });

  test.each([
    ["no cookie", get("/"), "unauthorized"],
    ["an unknown session", get("/", { cookie: "ve_dashboard=ffff" }), "unauthorized"],
    ["a wrong Host", get("/", { host: "evil.example:4100" }), "forbidden"],
  ] as const)("%s is refused", (_, request, code) => {
    const decision = new DashboardAccess().decide(request, HOSTS);
    expect(decision.kind === "refuse" && decision.error.code).toBe(code);
  });

  test("a cross-origin POST is refused even with a session", () => {
    const access = new DashboardAccess();
    const login = access.decide(get(`/?code=${access.mintCode()}`), HOSTS);
    if (login.kind !== "login") throw new Error("no login");
    const cookie = login.cookie.split(";")[0]!;
    const post = (origin: string) =>
      new Request("http://127.0.0.1:4100/api/work-units", {
        method: "POST",
        headers: { host: "127.0.0.1:4100", cookie, origin },
      });
    const refused = access.decide(post("http://evil.example"), HOSTS);
    expect(refused.kind === "refuse" && refused.error.code).toBe("forbidden");
    expect(access.decide(post("http://127.0.0.1:4100"), HOSTS).kind).toBe("pass");
  });
});
