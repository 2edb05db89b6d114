// The dashboard listener over a real port and the real app: the code exchange and every refusal,
// with raw requests (a browser test drives the same rules once the page exists).
import { afterEach, expect, test } from "bun:test";
import { bunServeOptions } from "../../src/api/serve-options.ts";
import { DashboardListener } from "../../src/dashboard/listener.ts";
import { useApi } from "../api/helpers.ts";

const setup = useApi("ve-dashboard");
const listeners: DashboardListener[] = [];
afterEach(async () => {
  for (const listener of listeners.splice(0)) await listener.stop();
});

function start(): DashboardListener {
  const { app } = setup();
  const listener = new DashboardListener({
    api: app.fetch,
    page: () => new Response("<!doctype html><title>ve</title>", { headers: { "content-type": "text/html" } }),
    port: 0,
    serve: bunServeOptions(() => {}),
  });
  listeners.push(listener);
  return listener;
}

async function login(listener: DashboardListener): Promise<string> {
  const response = await fetch(listener.url(), { redirect: "manual" });
  expect(response.status).toBe(303);
  expect(response.headers.get("location")).toBe("/");
  const cookie = response.headers.get("set-cookie") ?? "";
  expect(cookie).toContain("HttpOnly");
  expect(cookie).toContain("SameSite=Strict");
  return cookie.split(";")[0]!;
}

test("the printed URL logs in once; its cookie reaches the page and the JSON API under /api/", async () => {
  const listener = start();
  const url = listener.url();
  expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${listener.port}/\\?code=[0-9a-f]{64}$`));
  const first = await fetch(url, { redirect: "manual" });
  expect(first.status).toBe(303);
  const cookie = (first.headers.get("set-cookie") ?? "").split(";")[0]!;
  const again = await fetch(url, { redirect: "manual" });
  expect(again.status).toBe(401);
  expect(((await again.json()) as { error: { code: string } }).error.code).toBe("unauthorized");

  const page = await fetch(`http://127.0.0.1:${listener.port}/`, { headers: { cookie } });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("<title>ve</title>");
  const units = await fetch(`http://127.0.0.1:${listener.port}/api/work-units`, { headers: { cookie } });
  expect(units.status).toBe(200);
  expect(units.headers.get("access-control-allow-origin")).toBeNull();
});

test("no cookie, a wrong Host and a cross-origin POST are refused; a same-origin POST passes", async () => {
  const listener = start();
  const base = `http://127.0.0.1:${listener.port}`;
  const cookie = await login(listener);
  expect((await fetch(`${base}/api/work-units`)).status).toBe(401);
  expect((await fetch(`${base}/`, { headers: { cookie, host: `evil.example:${listener.port}` } })).status).toBe(403);
  const body = JSON.stringify({ chunk: "from-the-dashboard" });
  const post = (origin: string) =>
    fetch(`${base}/api/work-units`, {
      method: "POST",
      headers: { cookie, origin, "content-type": "application/json" },
      body,
    });
  const cross = await post("http://evil.example");
  expect(cross.status).toBe(403);
  const count = async () =>
    ((await (await fetch(`${base}/api/work-units`, { headers: { cookie } })).json()) as { count: number }).count;
  expect(await count()).toBe(0);
  const same = await post(base);
  expect(same.status).toBe(201);
  expect(await count()).toBe(1);
});
