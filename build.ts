// Builds dist/ve: the CLI and the daemon in one self-contained executable.
//   bun run build.ts
// The benchmarks compile their reference programs with `compile()` too, so a comparison
// never hides a difference in build settings.
import { rmSync } from "node:fs";

export const OUTFILE = "dist/ve";

/** A CLI run is all start-up: keep run-once code interpreted instead of paying for JIT threads. */
const CLI_JIT_POLICY = 100;

/** Compiles `entry` into the executable `outfile` with ve's settings. */
export async function compile(entry: string, outfile: string): Promise<void> {
  const result = await Bun.build({
    entrypoints: [entry],
    target: "bun",
    format: "esm",
    minify: true,
    bytecode: true,
    sourcemap: "linked",
    // Splitting keeps the daemon (Elysia, the store) in chunks that only the daemon loads, and
    // each command in its own, so `ve orch ps` starts as fast as a bare Bun program.
    splitting: true,
    // Elysia loads file-type only to check uploaded files' types, which no route of ours takes;
    // bundling it would add 0.4 MB of bytecode to the binary for code that never runs.
    external: ["file-type"],
    compile: {
      outfile,
      // The binary must behave the same in every directory: never read a project's .env or bunfig.
      autoloadDotenv: false,
      autoloadBunfig: false,
      autoloadTsconfig: false,
      autoloadPackageJson: false,
      // The daemon restores the normal policy once it runs.
      jitPolicy: CLI_JIT_POLICY,
    },
  });
  if (!result.success) {
    throw new AggregateError(result.logs, `building ${entry} failed:\n${result.logs.join("\n")}`);
  }
}

if (import.meta.main) {
  rmSync("dist", { recursive: true, force: true });
  try {
    await compile("src/cli/main.ts", OUTFILE);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  console.log(`built ${OUTFILE}`);
}
