// The libc binding on musl: a probe compiled for linux-x64-musl runs in a chroot made from
// Debian's musl package (docs/platforms.md), where the only C library is musl. Debian has no
// musl build of libstdc++, which Bun's musl runtime links, so the chroot borrows Debian's glibc
// one with a shim of the seven glibc-only symbols it needs (fixtures/glibc-shim.c). Skipped
// with a printed reason where any of that is missing (not Linux x64, not root, no musl-gcc, no
// cached musl runtime: tests never fetch one).
import { beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { buildStamp, compile } from "../../build.ts";
import { ReleaseError, runtimeFor } from "../../release.ts";
import { run } from "../e2e/harness.ts";
import { useTempDirs } from "../helpers/temp.ts";

const MUSL_LIBC = "/lib/x86_64-linux-musl/libc.so";
const GNU_LIBS = ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libgcc_s.so.1"];
const BUILD_TIMEOUT_MS = 120_000;
const tempDir = useTempDirs("ve-musl");

function muslRuntime(): string | undefined {
  try {
    return runtimeFor("linux-x64-musl", true);
  } catch (error) {
    if (error instanceof ReleaseError) return undefined;
    throw error;
  }
}

function skipReason(): string | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") return "it needs Linux on x86-64";
  if (process.getuid?.() !== 0) return "chroot and mounts need root";
  for (const tool of ["unshare", "chroot", "musl-gcc"]) if (Bun.which(tool) === null) return `${tool} is not installed`;
  for (const file of [MUSL_LIBC, ...GNU_LIBS]) if (!existsSync(file)) return `${file} is missing (apt-get install musl musl-tools)`;
  if (muslRuntime() === undefined) return "no Bun runtime for linux-x64-musl on this machine (`npm run release` fetches it)";
  return undefined;
}

const reason = skipReason();
if (reason !== undefined) console.log(`musl chroot test skipped: ${reason}`);

describe.skipIf(reason !== undefined)("on musl (chroot)", () => {
  let root = "";
  beforeAll(async () => {
    root = tempDir();
    for (const dir of ["lib", "usr/lib", "tmp", "proc", "dev"]) mkdirSync(join(root, dir), { recursive: true });
    copyFileSync(MUSL_LIBC, join(root, "lib/ld-musl-x86_64.so.1"));
    // Alpine's soname for musl, and glibc's loader name that libstdc++ asks for: both are musl here.
    symlinkSync("ld-musl-x86_64.so.1", join(root, "lib/libc.musl-x86_64.so.1"));
    symlinkSync("ld-musl-x86_64.so.1", join(root, "lib/ld-linux-x86-64.so.2"));
    for (const lib of GNU_LIBS) copyFileSync(lib, join(root, "usr/lib", lib.split("/").at(-1) ?? ""));
    const shim = await run(
      ["musl-gcc", "-shared", "-fPIC", "-O2", "-o", join(root, "usr/lib/libglibcshim.so"), join(import.meta.dir, "fixtures/glibc-shim.c")],
    );
    if (shim.code !== 0) throw new Error(`musl-gcc failed: ${shim.stderr}`);
    await compile(join(import.meta.dir, "fixtures/libc-probe.ts"), join(root, "probe"), "linux-x64-musl", buildStamp(), muslRuntime());
  }, BUILD_TIMEOUT_MS);

  test("the binding loads musl by its soname, takes and contends a lock, and reads errno through musl", async () => {
    // A private mount namespace: /proc (Bun reads its own executable through it) and /dev are
    // mounted for this run only and vanish with it.
    const script = `mount -t proc proc "$1/proc" && mount --bind /dev "$1/dev" && exec env LD_PRELOAD=/usr/lib/libglibcshim.so chroot "$1" /probe`;
    const result = await run(["unshare", "--mount", "--propagation", "private", "--fork", "sh", "-c", script, "sh", root], {
      timeoutMs: 60_000,
    });
    const stderr = result.stderr
      .split("\n")
      // The host's glibc chroot(8) is handed LD_PRELOAD too, and says it ignored it.
      .filter((line) => line !== "" && !line.startsWith("ERROR: ld.so: object"))
      .join("\n");
    expect({ code: result.code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(result.stdout)).toEqual({
      target: "linux-x64-musl",
      library: "libc.musl-x86_64.so.1",
      taken: true,
      contended: false,
      badFd: { errno: 9, description: "Bad file descriptor" },
      muslMapped: true,
    });
  });
});
