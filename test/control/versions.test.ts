// `start` against a running daemon of another version says whether it is older (then restart
// upgrades it) or newer: the order of ve versions decides which sentence a user reads.
import { describe, expect, test } from "bun:test";
import { versionNotice } from "../../src/control/daemon.ts";
import { compareVersions } from "../../src/version.ts";
import { VERSION } from "../../src/version.ts";

describe("version order", () => {
  test("numeric parts compare as numbers; a pre-release sorts before its release", () => {
    expect(compareVersions("0.9.0", "0.10.0")).toBeLessThan(0);
    expect(compareVersions("1.0.0", "0.99.99")).toBeGreaterThan(0);
    expect(compareVersions("1.2.3", "1.2.3")).toBe(0);
    expect(compareVersions("1.2", "1.2.0")).toBe(0);
    expect(compareVersions("1.0.0-rc.1", "1.0.0")).toBeLessThan(0);
    expect(compareVersions("1.0.0", "1.0.0-rc.1")).toBeGreaterThan(0);
  });

  test("the notice names both versions and says older or newer; none for the same version", () => {
    expect(versionNotice(VERSION)).toBeUndefined();
    expect(versionNotice("0.0.1")).toContain(`ve 0.0.1, older than this ve ${VERSION}`);
    expect(versionNotice("0.0.1")).toContain("ve orch restart");
    expect(versionNotice("999.0.0")).toContain(`ve 999.0.0, newer than this ve ${VERSION}`);
  });
});
