// docs/engine.md's settings table against the keys `ve orch config` accepts: a setting added to
// the code without a row (backends.codex.sandbox once) or a default changed in one place only
// fails here.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { BACKEND_NAMES, CONFIG_KEYS } from "../../src/engine/config.ts";

const DOC = readFileSync(resolve(import.meta.dir, "../../docs/engine.md"), "utf8");

/** Each documented key with the default its row gives, as the row's text spells it. */
function documented(): Map<string, string> {
  const section = DOC.slice(DOC.indexOf("## Settings"), DOC.indexOf("\n## ", DOC.indexOf("## Settings") + 1));
  const rows = [...section.matchAll(/^\| (`[^|]*) \| ([^|]*) \|/gm)];
  const keys = new Map<string, string>();
  for (const [, keyCell = "", defaultCell = ""] of rows) {
    // `retries.failed` / `.transient`: a name starting with a dot keeps the first one's prefix.
    const names = [...keyCell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
    const prefix = (names[0] ?? "").replace(/[^.]*$/, "");
    const defaults = defaultCell.trim().split(/ \/ /);
    names.forEach((name, i) => {
      const full = name.startsWith(".") ? `${prefix}${name.slice(1)}` : name;
      const value = (defaults.length === names.length ? defaults[i] : defaults[0]) ?? "";
      const expanded = full.includes("<name>") ? BACKEND_NAMES.map((b) => full.replace("<name>", b)) : [full];
      for (const key of expanded) keys.set(key, value.trim().replace(/^`|`$/g, ""));
    });
  }
  return keys;
}

function shown(value: unknown): string {
  if (value === null) return "-";
  if (Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

describe("docs/engine.md settings", () => {
  test("the table names every setting with its default, and no other", () => {
    const table = documented();
    const actual = new Map(Object.entries(CONFIG_KEYS).map(([key, def]) => [key, shown(def.default)]));
    expect(Object.fromEntries([...table].sort())).toEqual(Object.fromEntries([...actual].sort()));
  });
});
