// Exit codes in one place: commands return a code or throw a VeError (mapped in src/cli/exit.ts);
// only the entry point, src/cli/main.ts, ends the process. A command that exits itself skips the
// runner's error reporting and whatever its caller (a test, the daemon's own shutdown) does next.
import { expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const CLI = resolve(import.meta.dir, "../../src/cli");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

test("no CLI module but the entry point calls process.exit or sets process.exitCode", () => {
  const offenders = sources(CLI)
    .filter((file) => relative(CLI, file) !== "main.ts")
    .filter((file) => /process\.exit(Code)?\b/.test(readFileSync(file, "utf8")))
    .map((file) => relative(CLI, file));
  expect(offenders).toEqual([]);
  expect(readFileSync(join(CLI, "main.ts"), "utf8")).toContain("process.exit(await runCli(");
});
