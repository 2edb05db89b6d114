import { describe, expect, test } from "bun:test";
import { CONFIG_KEYS, effectiveConfig, parseConfigText, validateConfigValue } from "../../src/engine/config.ts";
import { VeError } from "../../src/errors.ts";

describe("engine settings", () => {
  test("the keys the design names all exist", () => {
    for (const key of ["max_agents", "backend", "backends.command.path", "backends.claude.args", "backends.claude.permission_mode", "run_timeout_s", "silence_timeout_s", "on_attention"]) {
      expect(Object.hasOwn(CONFIG_KEYS, key)).toBe(true);
    }
  });

  test("values typed on a command line are parsed and checked", () => {
    expect(parseConfigText("max_agents", "4")).toBe(4);
    expect(parseConfigText("backends.codex.args", '["-m","o4"]')).toEqual(["-m", "o4"]);
    expect(parseConfigText("backend", "claude")).toBe("claude");
    expect(parseConfigText("backends.codex.sandbox", "danger-full-access")).toBe("danger-full-access");
    for (const [key, text] of [["max_agents", "0"], ["max_agents", "two"], ["backend", "vim"], ["backends.codex.args", "-m o4"], ["backends.claude.permission_mode", "yolo"], ["backends.codex.sandbox", "none"]] as const) {
      expect(() => parseConfigText(key, text)).toThrow(VeError);
    }
  });

  test("a ratio is a number from 0 to 1, fractions and whole numbers both", () => {
    expect(parseConfigText("guard.max_deleted_ratio", "0.9")).toBe(0.9);
    expect(parseConfigText("guard.max_deleted_ratio", "1")).toBe(1);
    expect(validateConfigValue("guard.max_deleted_ratio", 0)).toBe(0);
    for (const text of ["1.5", "-0.1", "half", ""]) expect(() => parseConfigText("guard.max_deleted_ratio", text)).toThrow(VeError);
    expect(() => validateConfigValue("guard.max_deleted_ratio", "0.5")).toThrow(/number from 0 to 1/);
  });

  test("an unknown key is refused naming its neighbours", () => {
    expect(() => validateConfigValue("backends.claude.pathh", "x")).toThrow(/did you mean/);
  });

  test("each key shows its value and where it came from", () => {
    const entries = effectiveConfig(new Map([["max_agents", 8]]));
    expect(entries.find((e) => e.key === "max_agents")).toMatchObject({ value: 8, default: 2, source: "config" });
    expect(entries.find((e) => e.key === "run_timeout_s")).toMatchObject({ value: 3600, source: "default" });
  });
});
