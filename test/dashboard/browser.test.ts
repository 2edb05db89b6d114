// The dashboard's login and refusals seen from a real Chromium (one browser for the file).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Browser, chromium } from "playwright-core";
import { bunServeOptions } from "../../src/api/serve-options.ts";
import { DashboardListener } from "../../src/dashboard/listener.ts";
import { useApi } from "../api/helpers.ts";
import { CHROMIUM_INSTALL_TIMEOUT_MS, ensureChromium } from "../helpers/chromium.ts";

const setup = useApi("ve-dashboard-browser");
let browser: Browser;
const listeners: DashboardListener[] = [];
const others: ReturnType<typeof Bun.serve>[] = [];

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: ensureChromium(), args: ["--no-sandbox"] });
}, CHROMIUM_INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  for (const listener of listeners) await listener.stop();
  for (const server of others) await server.stop(true);
});

function start(): DashboardListener {
  const { app } = setup();
  const listener = new DashboardListener({
    api: app.fetch,
    page: () => new Response("<!doctype html><title>ve</title><main>board</main>", { headers: { "content-type": "text/html" } }),
    port: 0,
    serve: bunServeOptions(() => {}),
  });
  listeners.push(listener);
  return listener;
}

test("opening the printed URL logs in and drops the code; the cookie is out of the page's reach; the URL works once", async () => {
  const listener = start();
  const base = `http://127.0.0.1:${listener.port}`;
  const url = listener.url();
  const context = await browser.newContext();
  const page = await context.newPage();
  const first = await page.goto(url);
  expect(first?.status()).toBe(200);
  expect(page.url()).toBe(`${base}/`);
  expect(await page.title()).toBe("ve");
  expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).toBe("");
  const statuses = await page.evaluate(async () => {
    const list = await fetch("/api/work-units");
    const made = await fetch("/api/work-units", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ chunk: "from-the-page" }),
    });
    return [list.status, made.status];
  });
  expect(statuses).toEqual([200, 201]);
  await context.close();

  const fresh = await browser.newContext();
  const again = await (await fresh.newPage()).goto(url);
  expect(again?.status()).toBe(401);
  await fresh.close();
});

// Two defences stand here: SameSite=Strict keeps the cookie off the cross-site request, and the
// Origin check refuses it even if a cookie came along (listener.test.ts checks that one alone).
test("another site's page cannot change state through the logged-in browser", async () => {
  const listener = start();
  const base = `http://127.0.0.1:${listener.port}`;
  const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("<!doctype html><title>other</title>", { headers: { "content-type": "text/html" } }) });
  others.push(other);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(listener.url());
  await page.goto(`http://localhost:${other.port}/`);
  await page.evaluate(async (target) => {
    await fetch(`${target}/api/work-units`, {
      method: "POST",
      mode: "no-cors",
      credentials: "include",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ chunk: "from-elsewhere" }),
    }).catch(() => undefined);
  }, base);
  await page.goto(`${base}/`);
  const count = await page.evaluate(async () => ((await (await fetch("/api/work-units")).json()) as { count: number }).count);
  expect(count).toBe(0);
  await context.close();
});
