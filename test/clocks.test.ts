import { describe, expect, test } from "bun:test";
import { clockMs } from "../src/clocks.ts";

describe("clock overrides for tests", () => {
  const cases: [string | undefined, number][] = [
    [undefined, 10_000],
    ["", 10_000],
    ["  ", 10_000],
    ["250", 250],
    ["0", 0],
    ["-1", 10_000],
    ["ten", 10_000],
    ["Infinity", 10_000],
    ["1.5", 1.5],
  ];
  for (const [raw, expected] of cases) {
    test(`VE_X_MS=${JSON.stringify(raw)} -> ${expected}`, () => {
      expect(clockMs("X_MS", 10_000, raw === undefined ? {} : { VE_X_MS: raw })).toBe(expected);
    });
  }
});
