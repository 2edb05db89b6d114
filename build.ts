// Builds dist/ve: the CLI and the daemon in one self-contained executable.
//   bun run build.ts
// Code splitting keeps the daemon (Elysia, the store) in a chunk that only the daemon loads,
// so `ve orch ps` starts as fast as a bare Bun program.
import { rmSync } from "node:fs";

const OUTFILE = "dist/ve";
const CLI_JIT_POLICY = 100;

rmSync("dist", { recursive: true, force: true });
const result = await Bun.build({
  entrypoints: ["src/cli/main.ts"],
  target: "bun",
  format: "esm",
  minify: true,
  bytecode: true,
  sourcemap: "linked",
  splitting: true,
  compile: {
    outfile: OUTFILE,
    // The binary must behave the same in every directory: never read a project's .env or bunfig.
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
    // A CLI run is all start-up: keep run-once code in the interpreter instead of paying for
    // JIT threads and compilation it never recovers (the daemon restores the normal policy).
    jitPolicy: CLI_JIT_POLICY,
  },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${OUTFILE}`);
