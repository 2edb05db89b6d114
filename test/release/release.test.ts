// `npm run release` (release.ts, docs/release.md): ve-<version>-<target> for six targets plus
// SHA256SUMS. The host target is always built here (it needs only the Bun running the tests) and
// its binary must pass the e2e smoke test and install with install.sh. The other five need
// Bun's runtimes for their platforms, fetched from the npm registry by the first
// `npm run release`; tests never use the network, so those are built and checked only when
// the runtimes are on this machine already (offline), and skipped with a printed reason otherwise.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { StartResult, WorkUnitList } from "../../src/models/index.ts";
import { VERSION, hostTarget } from "../../src/version.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { jsonOf, run, useProjects } from "../e2e/harness.ts";
import {
  RELEASE_TARGETS,
  ReleaseError,
  codeSignatureProblem,
  parseSums,
  releaseName,
  runtimeFor,
  sha256,
  targetOfExecutable,
} from "../../release.ts";

const RELEASE = resolve(import.meta.dir, "../../release.ts");
const HOST = hostTarget();
const BUILD_TIMEOUT_MS = 240_000;
const tempDir = useTempDirs("ve-release");
const { project, track } = useProjects("ve-release-smoke");

/** What `file(1)` says of each target, when it is installed: a second opinion on the headers. */
const FILE_SAYS: Record<string, RegExp> = {
  "linux-x64": /^ELF 64-bit LSB .*x86-64.*interpreter \/lib64\/ld-linux-x86-64\.so\.2/,
  "linux-arm64": /^ELF 64-bit LSB .*ARM aarch64.*interpreter \/lib\/ld-linux-aarch64\.so\.1/,
  "linux-x64-musl": /^ELF 64-bit LSB .*x86-64.*interpreter \/lib\/ld-musl-x86_64\.so\.1/,
  "linux-arm64-musl": /^ELF 64-bit LSB .*ARM aarch64.*interpreter \/lib\/ld-musl-aarch64\.so\.1/,
  "darwin-x64": /^Mach-O 64-bit x86_64 executable/,
  "darwin-arm64": /^Mach-O 64-bit arm64 executable/,
};
const HAS_FILE = Bun.which("file") !== null;

/** Checks a release folder: every expected file is there, listed once, of its target's format. */
function checkRelease(dir: string, targets: readonly string[]): void {
  const sums = parseSums(readFileSync(join(dir, "SHA256SUMS"), "utf8"));
  const names = targets.map((target) => releaseName(target));
  expect([...sums.keys()].sort()).toEqual([...names, "install.sh"].sort());
  expect(readdirSync(dir).sort()).toEqual([...names, "install.sh", "SHA256SUMS"].sort());
  for (const target of targets) {
    const path = join(dir, releaseName(target));
    expect(sha256(path)).toBe(sums.get(releaseName(target)) ?? "missing");
    expect(targetOfExecutable(path)).toBe(target);
    if (HAS_FILE) expect(Bun.spawnSync(["file", "-b", path]).stdout.toString()).toMatch(FILE_SAYS[target] ?? /^$/);
  }
  expect(sha256(join(dir, "install.sh"))).toBe(sums.get("install.sh") ?? "missing");
}

describe(`release for this machine (${HOST})`, () => {
  let out = "";
  let stdout = "";
  beforeAll(async () => {
    out = join(tempDir(), "release");
    const result = await run([process.execPath, RELEASE, "--target", "host", "--out", out], { timeoutMs: BUILD_TIMEOUT_MS });
    if (result.code !== 0) throw new Error(`release.ts --target host failed (exit ${result.code}): ${result.stderr}`);
    stdout = result.stdout;
  }, BUILD_TIMEOUT_MS);

  test("writes ve-<version>-<target>, install.sh and SHA256SUMS; the sums match and the headers say the target", () => {
    checkRelease(out, [HOST]);
    const name = releaseName(HOST);
    expect(name).toBe(`ve-${VERSION}-${HOST}`);
    // The listing a person reads: name, size, sum.
    expect(stdout).toMatch(new RegExp(`^${name}\\s+\\d+\\.\\d MB  ${sha256(join(out, name))}$`, "m"));
  });

  test("its binary passes the smoke test: start, create, ps, stop", async () => {
    const bin = join(out, releaseName(HOST));
    const dir = track(project());
    const veRelease = (args: string[]) => run([bin, ...args, "--project-dir", dir]);
    const start = await veRelease(["orch", "start", "--json"]);
    expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: "" });
    expect(jsonOf(StartResult, start).daemon.target).toBe(HOST);
    expect((await veRelease(["orch", "work-unit", "create", "from-release"])).code).toBe(0);
    const ps = jsonOf(WorkUnitList, await veRelease(["orch", "ps", "--json"]));
    expect(ps.work_units.map((unit) => unit.chunk)).toEqual(["from-release"]);
    const stop = await veRelease(["orch", "stop"]);
    expect(stop.code).toBe(0);
    expect((await veRelease(["orch", "status"])).code).not.toBe(0);
  });

  test("install.sh from that folder installs it into a temporary directory, where it runs", async () => {
    const bin = join(tempDir(), "bin");
    const result = await run(["sh", join(out, "install.sh"), "--dir", bin], { env: { HOME: tempDir() } });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(result.stdout).toContain(`installed ${releaseName(HOST)} as ${bin}/ve`);
    expect(sha256(join(bin, "ve"))).toBe(sha256(join(out, releaseName(HOST))));
    expect((await run([join(bin, "ve"), "--version"])).stdout.trim()).toBe(VERSION);
  });
});

describe("release.ts arguments", () => {
  test("an unknown target or a folder holding other files is refused before anything is built", async () => {
    const bad = await run([process.execPath, RELEASE, "--target", "windows-x64", "--out", tempDir()]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("unknown --target windows-x64; use host or one of linux-x64,");
    const busy = tempDir();
    await Bun.write(join(busy, "notes.txt"), "mine");
    const refused = await run([process.execPath, RELEASE, "--target", "host", "--out", busy]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("holds files that are not a release (notes.txt)");
    expect(readFileSync(join(busy, "notes.txt"), "utf8")).toBe("mine");
  });
});

/** The cross targets whose Bun runtime is not on this machine (fetching is not a test's job). */
function missingRuntimes(): string[] {
  return RELEASE_TARGETS.filter((target) => {
    try {
      runtimeFor(target, true);
      return false;
    } catch (error) {
      if (error instanceof ReleaseError) return true;
      throw error;
    }
  });
}

const missing = missingRuntimes();
if (missing.length > 0) {
  console.log(
    `release of all six targets skipped: no Bun runtime on this machine for ${missing.join(", ")}; ` +
      "`npm run release` fetches them once from the npm registry",
  );
}

describe("release for all six targets", () => {
  test.skipIf(missing.length > 0)(
    "builds each one offline; each file exists, has its target's headers and matches SHA256SUMS; macOS arm64 is validly signed",
    async () => {
      const out = join(tempDir(), "release");
      const result = await run([process.execPath, RELEASE, "--offline", "--out", out], { timeoutMs: BUILD_TIMEOUT_MS });
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
      checkRelease(out, RELEASE_TARGETS);
      // Apple silicon kills a binary whose signature does not cover it, before main().
      expect(codeSignatureProblem(join(out, releaseName("darwin-arm64")))).toBeUndefined();
      // The x64 one is Bun's known short signature; the release says so, install.sh re-signs it.
      const x64 = codeSignatureProblem(join(out, releaseName("darwin-x64")));
      if (x64 !== undefined) expect(result.stdout).toContain(`warning: ${releaseName("darwin-x64")}: code signature: ${x64}`);
      expect(existsSync(join(out, ".build-linux-x64"))).toBe(false);
    },
    BUILD_TIMEOUT_MS,
  );
});
