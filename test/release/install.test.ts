// install.sh (docs/release.md): picks the release file for `uname -s`/`uname -m` and the C
// library, checks it against SHA256SUMS, installs it as `ve`, and says how to reach it on PATH.
// Run under dash (`sh` here) and bash, against a local release folder of small stand-in
// binaries, with fake uname/ldd/getconf/sysctl first on PATH: no network, no real HOME.
import { describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { useTempDirs } from "../helpers/temp.ts";
import { run } from "../e2e/harness.ts";

const INSTALL = resolve(import.meta.dir, "../../install.sh");
const VERSION = "9.9.9";
const TARGETS = ["linux-x64", "linux-arm64", "linux-x64-musl", "linux-arm64-musl", "darwin-x64", "darwin-arm64"];
const SHELLS = ["sh", "bash"].filter((shell) => Bun.which(shell) !== null);
const tempDir = useTempDirs("ve-install");

function executable(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

/** A release folder whose "binaries" print their own target, with a correct SHA256SUMS. */
function fakeRelease(targets = TARGETS): string {
  const dir = tempDir();
  const sums: string[] = [];
  for (const target of targets) {
    const name = `ve-${VERSION}-${target}`;
    executable(join(dir, name), `#!/bin/sh\necho "ve ${VERSION} ${target}"\n`);
    sums.push(`${new Bun.CryptoHasher("sha256").update(readFileSync(join(dir, name))).digest("hex")}  ${name}\n`);
  }
  writeFileSync(join(dir, "SHA256SUMS"), sums.join(""));
  return dir;
}

interface Machine {
  s: string;
  m: string;
  libc?: "glibc" | "musl";
  /** macOS: `sysctl -n sysctl.proc_translated` (1 under Rosetta). */
  translated?: string;
}

/** A directory of fake uname/ldd/getconf/sysctl that describe `machine`. */
function fakeTools(machine: Machine): string {
  const dir = tempDir();
  executable(join(dir, "uname"), `#!/bin/sh\ncase "$1" in -s) echo '${machine.s}' ;; -m) echo '${machine.m}' ;; *) exit 2 ;; esac\n`);
  if (machine.libc === "musl") {
    executable(join(dir, "ldd"), "#!/bin/sh\necho 'musl libc (x86_64)' >&2\necho 'Version 1.2.4' >&2\nexit 1\n");
    executable(join(dir, "getconf"), "#!/bin/sh\necho 'getconf: unknown variable' >&2\nexit 1\n");
  } else {
    executable(join(dir, "ldd"), "#!/bin/sh\necho 'ldd (Debian GLIBC 2.36-9) 2.36'\n");
    executable(join(dir, "getconf"), "#!/bin/sh\n[ \"$1\" = GNU_LIBC_VERSION ] && echo 'glibc 2.36'\n");
  }
  executable(join(dir, "sysctl"), `#!/bin/sh\n${machine.translated === undefined ? "exit 1" : `echo ${machine.translated}`}\n`);
  return dir;
}

async function install(shell: string, args: string[], options: { machine?: Machine; path?: string; home?: string } = {}) {
  const tools = fakeTools(options.machine ?? { s: "Linux", m: "x86_64" });
  const home = options.home ?? tempDir();
  return run([shell, INSTALL, ...args], {
    env: { PATH: `${tools}:${options.path ?? process.env.PATH}`, HOME: home, TMPDIR: tempDir() },
  });
}

const CHOICES: [string, Machine, string][] = [
  ["Linux x86_64 with glibc", { s: "Linux", m: "x86_64" }, "linux-x64"],
  ["Linux aarch64 with glibc", { s: "Linux", m: "aarch64" }, "linux-arm64"],
  ["Linux x86_64 with musl (Alpine)", { s: "Linux", m: "x86_64", libc: "musl" }, "linux-x64-musl"],
  ["Linux aarch64 with musl", { s: "Linux", m: "aarch64", libc: "musl" }, "linux-arm64-musl"],
  ["macOS on Intel", { s: "Darwin", m: "x86_64", translated: "0" }, "darwin-x64"],
  ["macOS on Apple silicon", { s: "Darwin", m: "arm64" }, "darwin-arm64"],
  ["macOS on Apple silicon, shell under Rosetta", { s: "Darwin", m: "x86_64", translated: "1" }, "darwin-arm64"],
];

for (const shell of SHELLS) {
  describe(`install.sh under ${shell}`, () => {
    for (const [label, machine, target] of CHOICES) {
      test(`${label}: installs ve-${VERSION}-${target}`, async () => {
        const release = fakeRelease();
        const bin = join(tempDir(), "bin");
        const result = await install(shell, ["--from", release, "--dir", bin], { machine });
        expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
        expect(readFileSync(join(bin, "ve"), "utf8")).toBe(readFileSync(join(release, `ve-${VERSION}-${target}`), "utf8"));
        expect(result.stdout).toContain(`installed ve-${VERSION}-${target} as ${bin}/ve`);
        expect((await run([join(bin, "ve")])).stdout.trim()).toBe(`ve ${VERSION} ${target}`);
      });
    }

    test("refuses a file whose sum does not match, and leaves the installed ve as it was", async () => {
      const release = fakeRelease();
      const bin = join(tempDir(), "bin");
      mkdirSync(bin);
      executable(join(bin, "ve"), "#!/bin/sh\necho previous\n");
      // One byte changed after SHA256SUMS was written: a damaged or substituted download.
      writeFileSync(join(release, `ve-${VERSION}-linux-x64`), `#!/bin/sh\necho "ve ${VERSION} linux-x65"\n`);
      const result = await install(shell, ["--from", release, "--dir", bin]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`ve-${VERSION}-linux-x64 does not match SHA256SUMS`);
      expect(result.stderr).toContain("nothing was installed");
      expect(readFileSync(join(bin, "ve"), "utf8")).toBe("#!/bin/sh\necho previous\n");
      expect(Bun.spawnSync(["ls", "-A", bin]).stdout.toString().trim()).toBe("ve");
    });

    test("a release without this machine's file says which files it has", async () => {
      const release = fakeRelease(["darwin-arm64"]);
      const bin = join(tempDir(), "bin");
      const result = await install(shell, ["--from", release, "--dir", bin]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("has no ve binary for linux-x64");
      expect(result.stderr).toContain(`ve-${VERSION}-darwin-arm64`);
      expect(existsSync(join(bin, "ve"))).toBe(false);
    });

    test("an unsupported system or processor is named, and nothing is installed", async () => {
      const release = fakeRelease();
      const bin = join(tempDir(), "bin");
      const bsd = await install(shell, ["--from", release, "--dir", bin], { machine: { s: "FreeBSD", m: "amd64" } });
      expect(bsd.code).toBe(1);
      expect(bsd.stderr).toContain("no ve release for FreeBSD");
      const x86 = await install(shell, ["--from", release, "--dir", bin], { machine: { s: "Linux", m: "i686" } });
      expect(x86.code).toBe(1);
      expect(x86.stderr).toContain("no ve release for the i686 processor");
      expect(existsSync(join(bin, "ve"))).toBe(false);
    });

    test("a binary that does not run here is refused before it replaces anything", async () => {
      const release = fakeRelease();
      const name = `ve-${VERSION}-linux-x64`;
      executable(join(release, name), "#!/bin/sh\necho 'cannot execute: required file not found' >&2\nexit 127\n");
      const sum = new Bun.CryptoHasher("sha256").update(readFileSync(join(release, name))).digest("hex");
      writeFileSync(join(release, "SHA256SUMS"), `${sum}  ${name}\n`);
      const bin = join(tempDir(), "bin");
      const result = await install(shell, ["--from", release, "--dir", bin]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${name} does not run on this machine`);
      expect(existsSync(bin) ? Bun.spawnSync(["ls", "-A", bin]).stdout.toString().trim() : "").toBe("");
    });

    test("--target overrides detection; an unknown one is refused", async () => {
      const release = fakeRelease();
      const bin = join(tempDir(), "bin");
      const result = await install(shell, ["--from", release, "--dir", bin, "--target", "linux-arm64-musl"]);
      expect(result.code).toBe(0);
      expect((await run([join(bin, "ve")])).stdout.trim()).toBe(`ve ${VERSION} linux-arm64-musl`);
      const bad = await install(shell, ["--from", release, "--dir", bin, "--target", "windows-x64"]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("unknown --target 'windows-x64'");
    });

    test("defaults: the release folder the script sits in, and ~/.local/bin, with a PATH hint", async () => {
      const release = fakeRelease();
      copyFileSync(INSTALL, join(release, "install.sh"));
      const home = tempDir();
      const result = await run([shell, join(release, "install.sh")], {
        env: { PATH: `${fakeTools({ s: "Linux", m: "aarch64" })}:${process.env.PATH}`, HOME: home, TMPDIR: tempDir() },
      });
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
      expect((await run([join(home, ".local/bin/ve")])).stdout.trim()).toBe(`ve ${VERSION} linux-arm64`);
      expect(result.stdout).toContain(`${home}/.local/bin is not on your PATH`);
      expect(result.stdout).toContain(`export PATH="${home}/.local/bin:$PATH"`);
    });

    test("no PATH hint when the directory is on PATH already", async () => {
      const release = fakeRelease();
      const bin = join(tempDir(), "bin");
      const result = await install(shell, ["--from", release, "--dir", bin], { path: `${bin}:${process.env.PATH}` });
      expect(result.code).toBe(0);
      expect(result.stdout).not.toContain("not on your PATH");
    });

    test("on macOS the checked copy is re-signed ad hoc before it is installed (Bun's darwin-x64 signature is short)", async () => {
      const release = fakeRelease();
      const bin = join(tempDir(), "bin");
      const tools = tempDir();
      const log = join(tempDir(), "codesign.log");
      executable(join(tools, "codesign"), `#!/bin/sh\necho "$@" >> '${log}'\n`);
      const result = await install(shell, ["--from", release, "--dir", bin], {
        machine: { s: "Darwin", m: "x86_64", translated: "0" },
        path: `${tools}:${process.env.PATH}`,
      });
      expect(result.code).toBe(0);
      expect(readFileSync(log, "utf8")).toMatch(new RegExp(`^--force --sign - ${bin}/\\.ve\\.partial\\.\\d+\n$`));
      // Linux binaries are never touched.
      const linux = await install(shell, ["--from", release, "--dir", bin], { path: `${tools}:${process.env.PATH}` });
      expect(linux.code).toBe(0);
      expect(readFileSync(log, "utf8").split("\n").length).toBe(2);
    });

    test("without --from and outside a release folder it says what to pass", async () => {
      const result = await install(shell, ["--dir", join(tempDir(), "bin")]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("--from DIR");
    });
  });
}
