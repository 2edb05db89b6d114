// The daemon as a composition of services (issue 10): whatever ends it (a stop request, a
// failing start of any service, a throw, a stop asked for during start-up), every service
// that started is stopped exactly once, last started first; none that did not start is.
import { describe, expect, test } from "bun:test";
import { Ending, type Reporter, type Service, StartRefused, runServices } from "../../src/daemon/services.ts";

interface Recorder {
  events: string[];
  reporter: Reporter;
  lines: string[];
}

function recorder(): Recorder {
  const events: string[] = [];
  const lines: string[] = [];
  return {
    events,
    lines,
    reporter: {
      info: (m) => lines.push(`INFO ${m}`),
      warn: (m) => lines.push(`WARN ${m}`),
      error: (m) => lines.push(`ERROR ${m}`),
    },
  };
}

function fake(rec: Recorder, name: string, behaviour: { failStart?: Error; failStop?: Error; onStart?: () => void } = {}): Service {
  return {
    name,
    async start() {
      rec.events.push(`start ${name}`);
      behaviour.onStart?.();
      if (behaviour.failStart) throw behaviour.failStart;
    },
    async stop() {
      rec.events.push(`stop ${name}`);
      if (behaviour.failStop) throw behaviour.failStop;
    },
  };
}

async function run(rec: Recorder, services: Service[], ending = new Ending(), afterStart?: (ending: Ending) => void) {
  return await runServices(
    async ({ add }) => {
      for (const service of services) await add(service);
      afterStart?.(ending);
    },
    { ending, reporter: () => rec.reporter },
  );
}

describe("services stop once, in reverse order", () => {
  test("a stop request stops all of them, last started first, with its exit code", async () => {
    const rec = recorder();
    const code = await run(rec, ["log", "lock", "store", "server"].map((n) => fake(rec, n)), new Ending(), (e) =>
      e.request("SIGTERM received"),
    );
    expect(code).toBe(0);
    expect(rec.events).toEqual([
      "start log",
      "start lock",
      "start store",
      "start server",
      "stop server",
      "stop store",
      "stop lock",
      "stop log",
    ]);
    expect(rec.lines).toContain("INFO SIGTERM received; stopping");
  });

  test("a service ending the daemon later (its ground vanished) gives its exit code", async () => {
    const rec = recorder();
    const ending = new Ending();
    const pending = run(rec, [fake(rec, "log"), fake(rec, "watch")], ending);
    await Bun.sleep(0);
    ending.request("the state directory was deleted", 1);
    ending.request("SIGTERM received"); // a later request does not change the outcome
    expect(await pending).toBe(1);
    expect(rec.events).toEqual(["start log", "start watch", "stop watch", "stop log"]);
  });

  test("a failing start of a later service stops only the earlier ones, in reverse", async () => {
    const rec = recorder();
    const code = await run(rec, [
      fake(rec, "log"),
      fake(rec, "lock"),
      fake(rec, "store"),
      fake(rec, "server", { failStart: new StartRefused("cannot listen on 127.0.0.1:1 (EACCES); choose another --port") }),
      fake(rec, "scheduler"),
    ]);
    expect(code).toBe(1);
    expect(rec.events).toEqual(["start log", "start lock", "start store", "start server", "stop store", "stop lock", "stop log"]);
    expect(rec.lines).toContain("ERROR cannot listen on 127.0.0.1:1 (EACCES); choose another --port");
  });

  test("a refusal carries its own exit code and level (the loser of a start race)", async () => {
    const rec = recorder();
    const code = await run(rec, [fake(rec, "log"), fake(rec, "lock", { failStart: new StartRefused("another runs", 75, "info") })]);
    expect(code).toBe(75);
    expect(rec.events).toEqual(["start log", "start lock", "stop log"]);
    expect(rec.lines).toEqual(["INFO another runs"]);
  });

  test("an unexpected throw in a start is reported, not a stack trace, and still stops the rest", async () => {
    const rec = recorder();
    const code = await run(rec, [fake(rec, "log"), fake(rec, "agents", { failStart: new TypeError("boom") })]);
    expect(code).toBe(1);
    expect(rec.events).toEqual(["start log", "start agents", "stop log"]);
    expect(rec.lines).toEqual(["ERROR cannot start: boom"]);
  });

  test("a failing stop is reported and the services before it still stop", async () => {
    const rec = recorder();
    const code = await run(
      rec,
      [fake(rec, "log"), fake(rec, "store", { failStop: new Error("disk I/O error") }), fake(rec, "server")],
      new Ending(),
      (e) => e.request("SIGINT received"),
    );
    expect(code).toBe(0);
    expect(rec.events).toEqual(["start log", "start store", "start server", "stop server", "stop store", "stop log"]);
    expect(rec.lines).toContain("ERROR stopping the store failed: disk I/O error");
  });

  test("a stop asked for during start-up starts nothing more and stops what started", async () => {
    const rec = recorder();
    const ending = new Ending();
    const code = await run(rec, [
      fake(rec, "log"),
      fake(rec, "lock", { onStart: () => ending.request("SIGTERM received") }),
      fake(rec, "store"),
    ], ending);
    expect(code).toBe(0);
    expect(rec.events).toEqual(["start log", "start lock", "stop lock", "stop log"]);
    expect(rec.lines).toContain("INFO SIGTERM received during start-up; stopping");
  });
});
