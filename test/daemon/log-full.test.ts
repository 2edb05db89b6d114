// The daemon log on a disk that refuses lines: logging never throws into the request, the stop
// or the signal handler that logged, and once lines get through again the log says how many
// were lost.
import { describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { thrownVeError } from "../helpers/errors.ts";
import { openDaemonLog } from "../../src/daemon/log.ts";
import { useTmpfs } from "../helpers/tmpfs.ts";

const mountTmpfs = useTmpfs();

describe("the daemon log on a full disk", () => {
  test("a device in place of the log (/dev/full) is refused, never written to", () => {
    if (!existsSync("/dev/full")) {
      console.log("skipped: no /dev/full on this system");
      return;
    }
    // A log must be a regular file of the user's own (a device or a link there is refused);
    // a log whose every write fails is the full tmpfs below.
    expect(thrownVeError(() => openDaemonLog("/dev/full", { echo: false, maxBytes: 1024 })).code).toBe("unsafe_path");
  });

  test("lines refused while the disk is full are counted, and the count is logged once there is room", () => {
    const fs = mountTmpfs(64 * 1024);
    if (typeof fs === "string") {
      console.log(`skipped: ${fs}`);
      return;
    }
    const dir = join(fs.dir, "ve");
    mkdirSync(dir);
    const path = join(dir, "orchestrator.log");
    const log = openDaemonLog(path, { echo: false });
    log.logger.info("before the disk filled");
    const filler = fs.fill();
    // Past any page the log file still had room in.
    for (let i = 0; i < 100; i++) expect(() => log.logger.warn(`refused ${i} ${"x".repeat(100)}`)).not.toThrow();
    rmSync(filler);
    log.logger.info("after space was freed");
    log.close();
    const text = readFileSync(path, "utf8");
    expect(text).toContain("before the disk filled");
    expect(text).toMatch(/WARN +\d+ log lines were lost \(ENOSPC\)\n.* INFO +after space was freed\n$/);
  });

  test("a log that cannot be opened falls back to stderr instead of failing the start", () => {
    const log = openDaemonLog("/proc/version/not-a-dir/orchestrator.log", { echo: false });
    expect(() => log.logger.info("to stderr")).not.toThrow();
    log.close();
  });

  test("the daemon's stderr on a full disk (its log before and after the log file) never ends the process", async () => {
    if (!existsSync("/dev/full")) {
      console.log("skipped: no /dev/full on this system");
      return;
    }
    const full = openSync("/dev/full", "w");
    try {
      const child = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", "stderr-full.ts")], {
        stdio: ["ignore", "ignore", full],
      });
      expect(await child.exited).toBe(7);
    } finally {
      closeSync(full);
    }
  });
});
