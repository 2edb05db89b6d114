// What the CLI loads on every run. dist/ve is bundled with splitting: the entry chunk and the
// chunks it imports statically are evaluated by every command (`ps`, `status`, `work-unit`
// ...); everything else comes in through a dynamic import only where a command needs it. This
// bundles src/cli/main.ts with build.ts's own options (unminified, so each chunk still names
// its source modules) and walks the static imports from the entry: the daemon, the API
// (Elysia), the store (bun:sqlite), libc (bun:ffi) and node:fs must not be among them.
import { beforeAll, describe, expect, test } from "bun:test";
import { dirname, join, resolve } from "node:path";
import { BUNDLE_OPTIONS } from "../../build.ts";
import { useTempDirs } from "../helpers/temp.ts";

const ROOT = resolve(import.meta.dir, "../..");
const tempDir = useTempDirs("ve-bundle");

interface Chunk {
  file: string;
  /** Source modules bundled into this chunk, as Bun's `// path` markers name them. */
  modules: string[];
  staticImports: string[];
  dynamicImports: string[];
}

/** Bundles `entry` (a path) as build.ts does and reads each output chunk's modules and imports. */
async function bundle(entry: string, root = ROOT): Promise<{ entry: string; chunks: Map<string, Chunk> }> {
  const outdir = tempDir();
  const result = await Bun.build({ ...BUNDLE_OPTIONS, entrypoints: [entry], outdir, minify: false, root });
  if (!result.success) throw new AggregateError(result.logs, result.logs.join("\n"));
  const scanner = new Bun.Transpiler({ loader: "js" });
  const chunks = new Map<string, Chunk>();
  let entryFile = "";
  for (const output of result.outputs) {
    if (output.kind !== "entry-point" && output.kind !== "chunk") continue;
    const code = (await output.text()).replace(/^#!.*\n/, "");
    if (output.kind === "entry-point") entryFile = output.path;
    const imports = scanner.scanImports(code);
    // Relative imports name other chunks: keep them as absolute paths, like the outputs'.
    const target = (path: string) => (path.startsWith(".") ? resolve(dirname(output.path), path) : path);
    chunks.set(output.path, {
      file: output.path.slice(outdir.length + 1),
      modules: [...code.matchAll(/^\/\/ \S*?((?:src|node_modules)\/\S*)$/gm)].map((m) => m[1] as string),
      staticImports: imports.filter((i) => i.kind === "import-statement").map((i) => target(i.path)),
      dynamicImports: imports.filter((i) => i.kind === "dynamic-import").map((i) => target(i.path)),
    });
  }
  return { entry: entryFile, chunks };
}

/** Every chunk loaded with `from` before any of its code runs, and the external modules they import. */
function staticClosure(from: string, chunks: Map<string, Chunk>): { chunks: Chunk[]; externals: Set<string> } {
  const seen = new Set<string>();
  const externals = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const path of chunks.get(file)?.staticImports ?? []) {
      if (chunks.has(path)) visit(path);
      else externals.add(path);
    }
  };
  visit(from);
  return { chunks: [...seen].map((file) => chunks.get(file) as Chunk), externals };
}

/** Modules and externals no command may pay for at start-up, and why. */
const FORBIDDEN_MODULES: [RegExp, string][] = [
  [/^src\/daemon\//, "daemon code"],
  [/^src\/api\//, "the HTTP API"],
  [/^src\/state\//, "the SQLite store"],
  [/^src\/platform\//, "libc through bun:ffi"],
  [/^node_modules\/elysia\//, "Elysia"],
  [/^node_modules\/@sinclair\/typebox\//, "TypeBox's validators"],
];
const FORBIDDEN_EXTERNALS: [string, string][] = [
  ["bun:sqlite", "SQLite"],
  ["bun:ffi", "FFI"],
  ["elysia", "Elysia"],
  ["fs", "node:fs (costs more to load than the rest of a request)"],
  ["node:fs", "node:fs (costs more to load than the rest of a request)"],
];

function violations(closure: { chunks: Chunk[]; externals: Set<string> }): string[] {
  const found: string[] = [];
  for (const chunk of closure.chunks) {
    for (const module of chunk.modules) {
      for (const [pattern, what] of FORBIDDEN_MODULES) {
        if (pattern.test(module)) found.push(`${module} (${what}) in ${chunk.file}`);
      }
    }
  }
  for (const [name, what] of FORBIDDEN_EXTERNALS) {
    if (closure.externals.has(name)) found.push(`import of ${name} (${what})`);
  }
  return found;
}

describe("the CLI's bundle", () => {
  let cli: Awaited<ReturnType<typeof bundle>>;
  beforeAll(async () => {
    cli = await bundle(join(ROOT, "src/cli/main.ts"));
  }, 60_000);

  test("what every command loads holds no daemon, Elysia, SQLite, FFI or node:fs code", () => {
    const closure = staticClosure(cli.entry, cli.chunks);
    const modules = closure.chunks.flatMap((c) => c.modules);
    // The walk saw the commands that run without a dynamic import: it is the real path.
    for (const module of ["src/cli/runner.ts", "src/cli/commands/orch/ps.ts", "src/cli/commands/orch/status.ts", "src/client/client.ts"]) {
      expect(modules).toContain(module);
    }
    expect(violations(closure)).toEqual([]);
  });

  test("`ve mcp` and `ve agent` (run by agents, many at once) load no daemon, Elysia, SQLite, FFI or TypeBox code", () => {
    const entries = [...cli.chunks.values()].filter((c) =>
      c.modules.some((m) => m === "src/cli/commands/mcp.ts" || m === "src/cli/commands/agent/ask.ts" || m === "src/cli/commands/agent/done.ts"),
    );
    expect(entries.flatMap((c) => c.modules)).toEqual(expect.arrayContaining(["src/cli/commands/mcp.ts", "src/cli/commands/agent/ask.ts", "src/cli/commands/agent/done.ts"]));
    for (const chunk of entries) {
      const file = [...cli.chunks.entries()].find(([, c]) => c === chunk)?.[0] as string;
      // node:fs is fine here: these commands are not the ones scripts run in loops.
      const found = violations(staticClosure(file, cli.chunks)).filter((v) => !v.includes("node:fs") && !v.startsWith("import of fs "));
      expect({ chunk: chunk.file, found }).toEqual({ chunk: chunk.file, found: [] });
    }
  });

  test("the daemon is still in the binary, behind a dynamic import", () => {
    const all = [...cli.chunks.values()];
    expect(all.flatMap((c) => c.modules)).toContain("src/daemon/main.ts");
    expect(all.some((c) => c.dynamicImports.length > 0)).toBe(true);
    expect(staticClosure(cli.entry, cli.chunks).chunks.flatMap((c) => c.modules)).not.toContain("src/daemon/main.ts");
  });

  test("the check notices a light command that imports bun:sqlite, the store or the daemon", async () => {
    // A copy of ps with a heavy import at the top, bundled as its own entry.
    const dir = tempDir();
    const probe = join(dir, "probe.ts");
    for (const heavy of [
      `import { Database } from "bun:sqlite"; console.log(Database);`,
      `import { dlopen } from "bun:ffi"; console.log(dlopen);`,
      `import { Store } from "${join(ROOT, "src/state/store.ts")}"; console.log(Store);`,
      `import { runDaemon } from "${join(ROOT, "src/daemon/main.ts")}"; console.log(runDaemon);`,
    ]) {
      await Bun.write(probe, `${heavy}\nimport ps from "${join(ROOT, "src/cli/commands/orch/ps.ts")}";\nconsole.log(ps);\n`);
      const { entry, chunks } = await bundle(probe, "/");
      expect({ heavy, found: violations(staticClosure(entry, chunks)).length > 0 }).toEqual({ heavy, found: true });
    }
  }, 60_000);
});
