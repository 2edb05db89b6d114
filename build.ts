// Builds dist/ve: the CLI and the daemon in one self-contained executable.
//   bun run build.ts
// The benchmarks compile their reference programs with `compile()` too, so a comparison
// never hides a difference in build settings.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { hostTarget } from "./src/version.ts";

export const OUTFILE = "dist/ve";

/** What src/version.ts reports of a build: the commit and the time, shared by all targets of one run. */
export interface BuildStamp {
  commit: string;
  builtAt: string;
}

function git(...args: string[]): string | undefined {
  const result = Bun.spawnSync(["git", ...args], { cwd: import.meta.dir, stdout: "pipe", stderr: "ignore" });
  return result.exitCode === 0 ? result.stdout.toString().trim() : undefined;
}

/**
 * The commit being built ("-dirty" when tracked or new files differ from it: the binary is then not
 * that commit) and the time, from SOURCE_DATE_EPOCH when set so a rebuild can be byte-identical.
 */
export function buildStamp(): BuildStamp {
  const head = git("rev-parse", "HEAD");
  const dirty = head !== undefined && git("status", "--porcelain") !== "";
  const epochSeconds = Number(process.env.SOURCE_DATE_EPOCH);
  const date = Number.isInteger(epochSeconds) && epochSeconds > 0 ? new Date(epochSeconds * 1000) : new Date();
  return {
    commit: head === undefined ? "unknown" : `${head}${dirty ? "-dirty" : ""}`,
    builtAt: date.toISOString(),
  };
}

/**
 * What decides which module lands in which chunk; test/cli/bundle.test.ts bundles with these
 * too, to check what the CLI's entry loads.
 */
export const BUNDLE_OPTIONS = {
  target: "bun",
  format: "esm",
  // Splitting keeps the daemon (Elysia, the store) in chunks that only the daemon loads, and
  // each command in its own, so `ve orch ps` starts as fast as a bare Bun program.
  splitting: true,
  // Elysia loads file-type only to check uploaded files' types, which no route of ours takes;
  // bundling it would add 0.4 MB of bytecode to the binary for code that never runs.
  external: ["file-type"],
} as const satisfies Partial<Bun.BuildConfig>;

/** A CLI run is all start-up: keep run-once code interpreted instead of paying for JIT threads. */
const CLI_JIT_POLICY = 100;

/**
 * Compiles `entry` into the executable `outfile` with ve's settings, for `target`
 * (`<os>-<arch>[-musl]`, default this machine's) on the Bun runtime at `runtime` (default the Bun
 * running this build; release.ts passes the target platform's).
 */
export async function compile(
  entry: string,
  outfile: string,
  target: string = hostTarget(),
  stamp: BuildStamp = buildStamp(),
  runtime?: string,
): Promise<void> {
  const result = await Bun.build({
    entrypoints: [entry],
    ...BUNDLE_OPTIONS,
    minify: true,
    bytecode: true,
    sourcemap: "linked",
    // Read by src/version.ts; undeclared (so reported as "from source") when not compiled.
    define: {
      VE_BUILD_COMMIT: JSON.stringify(stamp.commit),
      VE_BUILD_DATE: JSON.stringify(stamp.builtAt),
      VE_BUILD_TARGET: JSON.stringify(target),
    },
    compile: {
      outfile,
      target: `bun-${target}` as Bun.Build.CompileTarget,
      ...(runtime === undefined ? {} : { executablePath: runtime }),
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
  // Stale chunks' source maps go; a release built into dist/release/ stays.
  for (const name of existsSync("dist") ? readdirSync("dist") : []) {
    if (name !== "release") rmSync(join("dist", name), { recursive: true, force: true });
  }
  try {
    await compile("src/cli/main.ts", OUTFILE);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  console.log(`built ${OUTFILE}`);
}
