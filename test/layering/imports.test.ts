// The import graph of src/: every module sits on a floor (docs/architecture.md, "Layers") and
// imports only from its own floor or below, and no modules import each other in a circle.
// A small walker over the sources rather than dependency-cruiser: the rules are two, the
// sources are plain relative imports of .ts files, and no dependency is added for them.
import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const SRC = join(ROOT, "src");

/** Lowest first. A module's floor is that of its directory under src/ (or its own name at the top). */
export const FLOORS: readonly (readonly string[])[] = [
  ["domain", "errors", "version", "clocks", "embedded.d"],
  ["validation", "platform"],
  ["project", "git"],
  ["agents"],
  ["models"],
  ["state"],
  ["engine"],
  ["api"],
  ["daemon", "client", "dashboard"],
  ["control"],
  ["cli"],
];

/**
 * Imports up the floors that are known and owned elsewhere; each is named so that the test
 * fails when it is gone (drop the entry) as much as when a new one appears.
 */
const KNOWN_UPWARD: readonly string[] = ["api/respond.ts -> daemon/front.ts"];

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(type\s+)?(?:[\w*${},\s]+?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

export interface ImportGraph {
  /** Every relative import, type-only ones too: a type is a dependency on its floor all the same. */
  all: Map<string, string[]>;
  /** The imports that remain in the build (static and dynamic); `import type` is erased, so it makes no circle at run time. */
  runtime: Map<string, string[]>;
}

/** Relative imports of each module under src/, as paths relative to src/. */
export function importGraph(srcDir: string): ImportGraph {
  const all = new Map<string, string[]>();
  const runtime = new Map<string, string[]>();
  for (const file of sources(srcDir)) {
    const text = readFileSync(file, "utf8").replace(/^\s*\/\/.*$/gm, "");
    const targets: string[] = [];
    const runtimeTargets: string[] = [];
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[2] ?? match[3];
      if (!spec?.startsWith(".")) continue;
      const target = resolve(dirname(file), spec);
      // Files outside src/ (sql/, package.json) are data embedded at build time, not layers.
      if (!target.startsWith(`${srcDir}/`)) continue;
      targets.push(relative(srcDir, target));
      if (!match[1]) runtimeTargets.push(relative(srcDir, target));
    }
    all.set(relative(srcDir, file), [...new Set(targets)]);
    runtime.set(relative(srcDir, file), [...new Set(runtimeTargets)]);
  }
  return { all, runtime };
}

export function floorOf(module: string): number {
  const top = module.includes("/") ? module.split("/")[0] : module.replace(/\.ts$/, "");
  const floor = FLOORS.findIndex((names) => names.includes(top as string));
  if (floor < 0) throw new Error(`${module} is on no floor: add ${top} to FLOORS and to docs/architecture.md`);
  return floor;
}

export function upwardImports(graph: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) if (floorOf(to) > floorOf(from)) out.push(`${from} -> ${to}`);
  }
  return out.sort();
}

/** Every circle once, as the modules along it (strongly connected components of more than one module, or a self-import). */
export function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node) as number, indices.get(next) as number));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) out.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!indices.has(node)) visit(node);
  return out;
}

describe("the import graph of src/", () => {
  const { all: graph, runtime } = importGraph(SRC);

  test("every module is on a floor", () => {
    for (const module of graph.keys()) expect(() => floorOf(module)).not.toThrow();
  });

  test("no import goes up the floors", () => {
    const known = KNOWN_UPWARD.filter((edge) => {
      const [from, to] = edge.split(" -> ");
      return graph.get(from as string)?.includes(to as string);
    });
    expect(upwardImports(graph)).toEqual(known);
  });

  test("no modules import each other in a circle", () => {
    expect(circles(runtime)).toEqual([]);
  });

  test("docs/architecture.md lists the same floors, lowest first", () => {
    const doc = readFileSync(join(ROOT, "docs/architecture.md"), "utf8");
    const section = doc.split("## Layers")[1]?.split("\n## ")[0] ?? "";
    const listed = [...section.matchAll(/^\d+\. (.+)$/gm)].map((m) =>
      (m[1] as string).split(" — ")[0]?.split(/,\s*/).map((name) => name.replace(/[`/]|\.ts$/g, "").trim()),
    );
    expect(listed).toEqual(FLOORS.map((names) => names.filter((name) => name !== "embedded.d")));
  });
});

describe("the walker finds what it should", () => {
  const graph = new Map<string, string[]>([
    ["domain.ts", []],
    ["state/a.ts", ["domain.ts", "engine/b.ts"]],
    ["engine/b.ts", ["state/a.ts"]],
    ["cli/c.ts", ["cli/c.ts"]],
  ]);
  test("an import from state up to engine is reported", () => {
    expect(upwardImports(graph)).toEqual(["state/a.ts -> engine/b.ts"]);
  });
  test("a circle of two and a self-import are reported", () => {
    expect(circles(graph)).toEqual([["cli/c.ts"], ["engine/b.ts", "state/a.ts"]]);
  });
  test("the pattern reads static, type-only, re-export and dynamic imports", () => {
    const text = `import { a } from "./a.ts";\nimport type { B } from "./b.ts";\nexport { c } from "./c.ts";\nconst d = await import("./d.ts");\nimport "./e.ts";`;
    expect([...text.matchAll(IMPORT)].map((m) => [m[2] ?? m[3], Boolean(m[1])])).toEqual([
      ["./a.ts", false],
      ["./b.ts", true],
      ["./c.ts", false],
      ["./d.ts", false],
      ["./e.ts", false],
    ]);
  });
});
