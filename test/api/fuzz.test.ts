// A seeded random request generator: thousands of requests of random method, path, body and
// content type against one store, then the store's invariants (DESIGN.md "Work unit"). The
// same seed gives the same requests: rerun a failure with VE_FUZZ_SEED=<seed> (decimal or 0x
// hex); VE_FUZZ_REQUESTS changes the count.
import { expect, test } from "bun:test";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { httpStatusOf } from "../../src/api/errors.ts";
import { type ErrorCode, VeError } from "../../src/errors.ts";
import {
  DaemonStatus,
  Deleted,
  ErrorBody,
  History,
  PHASES,
  STATUSES,
  WorkUnit,
  WorkUnitChanged,
  WorkUnitList,
} from "../../src/models/index.ts";
import type { Store } from "../../src/state/store.ts";
import { VERSION, request, useApi } from "./helpers.ts";

const setup = useApi("ve-api-fuzz");

const DEFAULT_SEED = 0x5eed2026;
const SEED = process.env.VE_FUZZ_SEED ? Number(process.env.VE_FUZZ_SEED) >>> 0 : DEFAULT_SEED;
const REQUESTS = Number(process.env.VE_FUZZ_REQUESTS ?? 20_000);
const SEED_TEXT = `0x${SEED.toString(16)}`;

/** mulberry32: a small, fast PRNG whose whole state is one 32-bit number. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(table: readonly (readonly [number, T])[]): T {
    const total = table.reduce((sum, [w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [w, value] of table) {
      r -= w;
      if (r < 0) return value;
    }
    return (table[table.length - 1] as readonly [number, T])[1];
  }
  subset<T>(items: readonly T[], max: number): T[] {
    const out: T[] = [];
    const n = this.int(max + 1);
    for (let i = 0; i < n; i++) out.push(this.pick(items));
    return out;
  }
}

// A small pool of names so that creates collide, updates hit, and blockers form chains.
const NAMES = ["a", "b", "c", "d", "e", "f", "g"];
const GHOSTS = ["ghost", "later"]; // valid names that are rarely created
const BAD_PATH_NAMES = ["..%2Fx", "a%2Fb", "%00", "caf%C3%A9", "x".repeat(101), "-a", "a..b", "a.lock", "%", "a%20b"];
const BAD_BODY_NAMES = ["../x", "a/b", "", "café", "a\u0000b", "x".repeat(101), ".a", 7, null];
const UNKNOWN_PATHS = ["/", "/nope", "/status/x", "/work-units/a/history/x", "/work-unit", "/work-units/a/b"];
const CONTENT_TYPES: readonly (readonly [number, string | undefined])[] = [
  [80, "application/json"],
  [5, "application/json; charset=utf-8"],
  [5, "text/plain"],
  [4, undefined],
  [3, "application/x-www-form-urlencoded"],
  [3, "multipart/form-data; boundary=x"],
];
const GARBAGE = [
  "",
  "{",
  "}",
  "[]",
  "null",
  "42",
  '"a"',
  "true",
  '{"chunk":',
  '{"status":"DONE"',
  "{'chunk':'a'}",
  '{"chunk":"a"} {}',
  "\u0000\u0001",
  "chunk=a&status=DONE",
  '[{"chunk":"a"}]',
  '{"__proto__":{"status":"DONE"}}',
];

interface Generated {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string | undefined;
}

function statusValue(rnd: Random): unknown {
  return rnd.weighted<unknown>([
    [90, rnd.pick(STATUSES)],
    [4, "ready"],
    [2, null],
    [2, 3],
    [2, "DOING"],
  ]);
}

function phaseValue(rnd: Random): unknown {
  return rnd.weighted<unknown>([
    [90, rnd.pick(PHASES)],
    [5, "goal"],
    [5, null],
  ]);
}

function blockersValue(rnd: Random): unknown {
  return rnd.weighted<unknown>([
    [85, rnd.subset([...NAMES, ...NAMES, ...GHOSTS], 3)],
    [5, rnd.pick(NAMES)],
    [5, [rnd.pick(BAD_BODY_NAMES)]],
    [5, null],
  ]);
}

function createBody(rnd: Random): Record<string, unknown> {
  const body: Record<string, unknown> = {
    chunk: rnd.chance(0.93) ? rnd.pick(rnd.chance(0.95) ? NAMES : GHOSTS) : rnd.pick(BAD_BODY_NAMES),
  };
  if (rnd.chance(0.3)) body.phase = phaseValue(rnd);
  if (rnd.chance(0.35)) body.status = statusValue(rnd);
  if (rnd.chance(0.5)) body.blocked_by = blockersValue(rnd);
  if (rnd.chance(0.15)) body.worktree = rnd.pick(["/w/x", null, "", 5, "w".repeat(5000)]);
  if (rnd.chance(0.04)) body[rnd.pick(["force", "extra", "updated_at"])] = true;
  return body;
}

function patchBody(rnd: Random, store: Store, name: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (rnd.chance(0.6)) body.status = statusValue(rnd);
  if (rnd.chance(0.3)) body.phase = phaseValue(rnd);
  if (rnd.chance(0.25)) body.blocked_by = blockersValue(rnd);
  if (rnd.chance(0.1)) body.worktree = rnd.pick(["/w/y", null, "", false]);
  if (rnd.chance(0.25)) body.force = rnd.weighted<unknown>([[90, rnd.chance(0.5)], [10, "yes"]]);
  if (rnd.chance(0.25)) {
    let current: string | undefined;
    try {
      current = store.get(name).updated_at;
    } catch {
      current = undefined;
    }
    body.expected_updated_at = rnd.weighted<unknown>([
      [60, current ?? "2001-01-01T00:00:00.000Z"],
      [25, "2000-01-01T00:00:00.000Z"],
      [15, rnd.pick(["yesterday", 0, null, "2026-01-01T00:00:00Z"])],
    ]);
  }
  if (rnd.chance(0.04)) body[rnd.pick(["chunk", "extra", "created_at"])] = "x";
  return body;
}

function generate(rnd: Random, store: Store): Generated {
  const method = rnd.weighted([
    [22, "GET"],
    [22, "POST"],
    [36, "PATCH"],
    [12, "DELETE"],
    [4, "PUT"],
    [4, "OPTIONS"],
  ]);
  const name = rnd.chance(0.9) ? rnd.pick(rnd.chance(0.93) ? NAMES : GHOSTS) : rnd.pick(BAD_PATH_NAMES);
  // Mostly the routes that take the method, so that most requests reach the store.
  const kinds: Record<string, readonly (readonly [number, string])[]> = {
    GET: [[10, "status"], [30, "collection"], [40, "unit"], [15, "history"], [5, "unknown"]],
    POST: [[85, "collection"], [5, "unit"], [3, "status"], [2, "history"], [5, "unknown"]],
    PATCH: [[90, "unit"], [4, "collection"], [2, "history"], [4, "unknown"]],
    DELETE: [[88, "unit"], [4, "collection"], [4, "history"], [4, "unknown"]],
  };
  const kind = rnd.weighted(kinds[method] ?? [[20, "status"], [30, "collection"], [30, "unit"], [10, "history"], [10, "unknown"]]);
  let path: string;
  switch (kind) {
    case "status":
      path = "/status";
      break;
    case "collection": {
      const query = rnd.weighted([
        [60, ""],
        [10, `?status=${rnd.pick([...STATUSES, "ready"])}`],
        [10, `?phase=${rnd.pick([...PHASES, "plan"])}`],
        [8, `?status=${rnd.pick(STATUSES)}&phase=${rnd.pick(PHASES)}`],
        [6, "?status=READY&status=DONE"],
        [6, "?owner=me"],
      ]);
      path = `/work-units${query}`;
      break;
    }
    case "unit": {
      const query =
        method === "DELETE"
          ? rnd.weighted([
              [50, ""],
              [30, "?force=true"],
              [10, "?force=false"],
              [5, `?force=${rnd.pick(["yes", "1", "", "TRUE"])}`],
              [5, "?force=true&force=true"],
            ])
          : "";
      path = `/work-units/${name}${query}`;
      break;
    }
    case "history":
      path = `/work-units/${name}/history`;
      break;
    default:
      path = rnd.pick(UNKNOWN_PATHS);
  }

  let body: string | undefined;
  const wantsBody = method === "POST" || method === "PATCH" || method === "PUT" || rnd.chance(0.05);
  if (wantsBody) {
    if (rnd.chance(0.8)) {
      const mutation = method === "POST" || kind === "collection" ? createBody(rnd) : patchBody(rnd, store, name);
      body = JSON.stringify(mutation);
      if (rnd.chance(0.03)) body = body.slice(0, rnd.int(body.length)); // truncated
    } else {
      body = rnd.pick(GARBAGE);
    }
  }
  const contentType = body === undefined ? undefined : rnd.weighted(CONTENT_TYPES);
  return { method, path, contentType, body };
}

/** The schema a 2xx answer must fit, by route. */
function successSchema(method: string, path: string): TSchema | undefined {
  const pathname = path.split("?")[0] as string;
  if (pathname === "/status") return DaemonStatus;
  if (pathname === "/work-units") return method === "GET" ? WorkUnitList : WorkUnit;
  if (/^\/work-units\/[^/]+\/history$/.test(pathname)) return History;
  if (/^\/work-units\/[^/]+$/.test(pathname)) return method === "DELETE" ? Deleted : method === "PATCH" ? WorkUnitChanged : WorkUnit;
  return undefined;
}

/** Every way the store can be wrong, as sentences; empty when all invariants hold. */
export function invariantViolations(store: Store): string[] {
  const problems: string[] = [];
  const units = store.list();
  const byName = new Map(units.map((u) => [u.chunk, u]));
  for (const u of units) {
    if (new Set(u.blocked_by).size !== u.blocked_by.length) problems.push(`${u.chunk}: duplicate blockers ${u.blocked_by}`);
    for (const b of u.blocked_by) {
      const blocker = byName.get(b);
      if ((u.status === "READY" || u.status === "RUNNING") && blocker?.status !== "DONE") {
        problems.push(`${u.chunk} is ${u.status} but waits on unfinished '${b}' (${blocker?.status ?? "not a unit"})`);
      }
      if (blocker?.status === "DONE") problems.push(`${u.chunk} still lists DONE unit '${b}' as a blocker`);
    }
    if (u.updated_at < u.created_at) problems.push(`${u.chunk}: updated_at before created_at`);
  }

  // Cycles: depth-first search over blocker edges between existing units.
  const state = new Map<string, "open" | "done">();
  const visit = (name: string, trail: string[]): void => {
    const seen = state.get(name);
    if (seen === "done") return;
    if (seen === "open") {
      problems.push(`dependency cycle: ${[...trail.slice(trail.indexOf(name)), name].join(" -> ")}`);
      return;
    }
    state.set(name, "open");
    for (const b of byName.get(name)?.blocked_by ?? []) if (byName.has(b)) visit(b, [...trail, name]);
    state.set(name, "done");
  };
  for (const u of units) visit(u.chunk, []);

  // The log: for each unit, a creation row first, rows that chain, and a last row that is now.
  const rows = store.db
    .query("SELECT id, chunk, old_status, new_status, old_phase, new_phase FROM status_log ORDER BY id")
    .all() as { id: number; chunk: string; old_status: string | null; new_status: string; old_phase: string | null; new_phase: string | null }[];
  const byChunk = new Map<string, typeof rows>();
  for (const row of rows) {
    const list = byChunk.get(row.chunk);
    if (list) list.push(row);
    else byChunk.set(row.chunk, [row]);
  }
  for (const u of units) {
    const log = byChunk.get(u.chunk) ?? [];
    const last = log[log.length - 1];
    if (!last) {
      problems.push(`${u.chunk}: no status_log rows`);
      continue;
    }
    if (log[0]?.old_status !== null) problems.push(`${u.chunk}: first log row #${log[0]?.id} is not a creation`);
    if (last.new_status !== u.status || last.new_phase !== u.phase) {
      problems.push(`${u.chunk}: last log row #${last.id} says ${last.new_status}/${last.new_phase}, unit is ${u.status}/${u.phase}`);
    }
    for (let i = 1; i < log.length; i++) {
      const prev = log[i - 1] as (typeof rows)[number];
      const row = log[i] as (typeof rows)[number];
      if (row.old_status !== prev.new_status) {
        problems.push(`${u.chunk}: log row #${row.id} starts at ${row.old_status}, #${prev.id} ended at ${prev.new_status}`);
      }
      if (row.old_phase !== prev.new_phase) {
        problems.push(`${u.chunk}: log row #${row.id} starts in ${row.old_phase}, #${prev.id} ended in ${prev.new_phase}`);
      }
    }
  }
  return problems;
}

function describeRequest(i: number, g: Generated): string {
  const body = g.body === undefined ? "(none)" : JSON.stringify(g.body.length > 300 ? `${g.body.slice(0, 300)}...` : g.body);
  return `request #${i} of seed ${SEED_TEXT} (rerun: VE_FUZZ_SEED=${SEED_TEXT}): ${g.method} ${g.path.slice(0, 200)} content-type=${g.contentType ?? "(none)"} body=${body}`;
}

test("the invariant checker sees a broken store", () => {
  const { store } = setup();
  store.create({ chunk: "x" });
  store.create({ chunk: "y", blocked_by: ["x"] });
  expect(invariantViolations(store)).toEqual([]);
  store.db.run("UPDATE work_units SET status = 'RUNNING' WHERE chunk = 'y'");
  store.db.run("INSERT INTO work_unit_blockers (chunk, blocker) VALUES ('x', 'y')");
  const problems = invariantViolations(store).join("\n");
  expect(problems).toContain("y is RUNNING but waits on unfinished 'x'");
  expect(problems).toContain("dependency cycle");
  expect(problems).toContain("y: last log row");
});

test("the generator is reproducible from its seed", () => {
  const { store } = setup();
  const run = () => {
    const rnd = new Random(SEED);
    return Array.from({ length: 200 }, () => generate(rnd, store));
  };
  expect(run()).toEqual(run());
  expect(new Random(1).float()).not.toBe(new Random(2).float());
});

test(`fuzz: ${REQUESTS} random requests, seed ${SEED_TEXT}: no 500, every answer JSON with X-Ve-Version, invariants hold`, async () => {
  const { app, store, logged } = setup();
  const rnd = new Random(SEED);
  const statuses = new Map<number, number>();
  const codes = new Map<string, number>();
  let successfulWrites = 0;

  for (let i = 0; i < REQUESTS; i++) {
    const g = generate(rnd, store);
    const headers: Record<string, string> = {};
    if (g.contentType !== undefined) headers["content-type"] = g.contentType;
    // An ArrayBuffer body gets no implicit content type (a string would get text/plain).
    const body = g.body === undefined ? undefined : (new TextEncoder().encode(g.body).buffer as ArrayBuffer);
    const response = await app.handle(request(g.method, g.path, body === undefined ? { headers } : { body, headers }));
    const text = await response.text();
    const fail = (why: string) => {
      throw new Error(`${why}\n${describeRequest(i, g)}\nanswer: ${response.status} ${text.slice(0, 300)}\n${logged[0] ?? ""}`);
    };

    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    if (response.status >= 500) fail(`a ${response.status}: a 500 is always a bug`);
    if (response.headers.get("x-ve-version") !== VERSION) fail("no X-Ve-Version header");
    if (!(response.headers.get("content-type") ?? "").startsWith("application/json")) fail("not a JSON content type");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      fail("the body is not JSON");
    }
    if (response.status >= 400) {
      if (!Value.Check(ErrorBody, parsed)) fail("an error body that does not fit ErrorBody");
      const code = (parsed as { error: { code: ErrorCode } }).error.code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (httpStatusOf(new VeError(code, "x")) !== response.status) fail(`code ${code} with HTTP ${response.status}`);
    } else {
      const schema = successSchema(g.method, g.path);
      if (!schema) fail("a success on a path that has no route");
      else if (!Value.Check(schema, parsed)) {
        const first = Value.Errors(schema, parsed).First();
        fail(`a success body that does not fit its schema (${first?.path}: ${first?.message})`);
      }
      if (g.method !== "GET") successfulWrites++;
    }
    if (i % 500 === 499) {
      const problems = invariantViolations(store);
      if (problems.length > 0) fail(`store invariants broken after this request:\n  ${problems.join("\n  ")}`);
    }
  }

  const problems = invariantViolations(store);
  if (problems.length > 0) throw new Error(`seed ${SEED_TEXT}: store invariants broken at the end:\n  ${problems.join("\n  ")}`);
  expect(logged).toEqual([]);

  // The run must have exercised the API, not only bounced off validation.
  const summary = `seed ${SEED_TEXT}, ${REQUESTS} requests: statuses ${JSON.stringify(Object.fromEntries(statuses))} codes ${JSON.stringify(Object.fromEntries(codes))}`;
  console.log(summary);
  if (REQUESTS >= 5000) {
    expect(successfulWrites, summary).toBeGreaterThan(500);
    for (const status of [200, 201, 400, 404, 405, 409, 415]) expect(statuses.get(status) ?? 0, summary).toBeGreaterThan(10);
    for (const code of ["already_exists", "invalid_transition", "blocked", "dependency_cycle", "has_dependents", "stale_write", "not_found"]) {
      expect(codes.get(code) ?? 0, summary).toBeGreaterThan(0);
    }
  }
}, 60_000);
