// Builds the release: `ve` for every supported platform, with dist/ve's exact settings (build.ts's
// `compile()`), into dist/release/ as ve-<version>-<target> plus SHA256SUMS.
//   bun run release.ts [--target T]... [--out DIR] [--offline]
// A target other than this machine's is compiled onto Bun's runtime for that platform: the npm
// package @oven/bun-<os>-<arch>[-musl] of exactly the Bun doing the build (bytecode only runs on
// the Bun version that wrote it). npm fetches it once (checking its integrity) into a cache.
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { type BuildStamp, buildStamp, compile } from "./build.ts";
import { VERSION, hostTarget } from "./src/version.ts";

export const RELEASE_TARGETS = [
  "linux-x64",
  "linux-arm64",
  "linux-x64-musl",
  "linux-arm64-musl",
  "darwin-x64",
  "darwin-arm64",
] as const;
export type ReleaseTarget = (typeof RELEASE_TARGETS)[number];

export const RELEASE_DIR = "dist/release";
export const SUMS_FILE = "SHA256SUMS";
export const INSTALLER = "install.sh";
const ROOT = import.meta.dir;

export function releaseName(target: string, version = VERSION): string {
  return `ve-${version}-${target}`;
}

/** Bun names architectures as the kernel does (aarch64); ve names them as Node does (arm64). */
function runtimePackage(target: ReleaseTarget): string {
  return `@oven/bun-${target.replace("arm64", "aarch64")}`;
}

/** Where fetched runtimes are kept between runs: $VE_RUNTIME_CACHE, else the user's cache dir. */
export function runtimeCacheDir(): string {
  if (process.env.VE_RUNTIME_CACHE) return resolve(process.env.VE_RUNTIME_CACHE);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "ve", "bun-runtimes");
}

export class ReleaseError extends Error {
  override readonly name = "ReleaseError";
}

/**
 * The Bun runtime to build `target` on, or undefined for this machine's own (the Bun running this
 * script, as for dist/ve). With `offline`, a runtime not yet on disk is an error, not a fetch.
 */
export function runtimeFor(target: ReleaseTarget, offline: boolean): string | undefined {
  if (target === hostTarget()) return undefined;
  const pkg = runtimePackage(target);
  // npm ci installed this platform's package already (pinned and checked by the lockfile).
  const installed = join(ROOT, "node_modules", pkg);
  if (existsSync(join(installed, "bin", "bun")) && readVersion(join(installed, "package.json")) === Bun.version) {
    return join(installed, "bin", "bun");
  }
  const cached = join(runtimeCacheDir(), `${basename(pkg)}-${Bun.version}`, "bun");
  if (existsSync(cached)) return cached;
  if (offline) {
    throw new ReleaseError(
      `no Bun runtime for ${target} at ${cached} and --offline forbids fetching ${pkg}@${Bun.version}; run \`npm run release\` once with network access to the npm registry.`,
    );
  }
  fetchRuntime(pkg, cached);
  return cached;
}

function readVersion(packageJson: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(packageJson, "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function run(command: string[], cwd: string): void {
  const result = Bun.spawnSync(command, { cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new ReleaseError(`\`${command.join(" ")}\` failed (exit ${result.exitCode}): ${result.stderr.toString().trim()}`);
  }
}

/** `npm pack` checks the tarball against the registry's integrity hash; only bin/bun is kept. */
function fetchRuntime(pkg: string, destination: string): void {
  const dir = join(destination, "..");
  mkdirSync(join(dir, ".."), { recursive: true });
  const work = mkdtempSync(`${dir}.partial-`);
  try {
    process.stdout.write(`fetching ${pkg}@${Bun.version} with npm pack ... `);
    run(["npm", "pack", "--silent", `${pkg}@${Bun.version}`], work);
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
    if (!tarball) throw new ReleaseError(`npm pack ${pkg}@${Bun.version} wrote no tarball into ${work}`);
    run(["tar", "-xzf", tarball, "package/bin/bun"], work);
    mkdirSync(dir, { recursive: true });
    // Renamed into place whole: an interrupted fetch never leaves a truncated runtime behind.
    renameSync(join(work, "package", "bin", "bun"), destination);
    console.log("done");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface ExecutableFormat {
  os: "linux" | "darwin";
  arch: "x64" | "arm64";
  /** For Linux executables: which C library their program interpreter belongs to. */
  libc?: "glibc" | "musl";
}

const ELF_MACHINES: Record<number, ExecutableFormat["arch"]> = { 0x3e: "x64", 0xb7: "arm64" };
const MACHO_CPUS: Record<number, ExecutableFormat["arch"]> = { 0x01000007: "x64", 0x0100000c: "arm64" };
const PT_INTERP = 3;
const MH_EXECUTE = 2;

/**
 * What a file is, from its headers: a 64-bit little-endian ELF executable (its architecture, and
 * glibc or musl from the program interpreter it names) or a 64-bit Mach-O executable. Undefined
 * for anything else.
 */
export function executableFormat(path: string): ExecutableFormat | undefined {
  const bytes = readHead(path, 64 * 1024);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 64) return undefined;
  if (view.getUint32(0, false) === 0x7f454c46) {
    // ELFCLASS64, little endian, ET_EXEC or ET_DYN.
    if (bytes[4] !== 2 || bytes[5] !== 1) return undefined;
    const type = view.getUint16(16, true);
    const arch = ELF_MACHINES[view.getUint16(18, true)];
    if (!arch || (type !== 2 && type !== 3)) return undefined;
    const phoff = Number(view.getBigUint64(32, true));
    const phentsize = view.getUint16(54, true);
    const phnum = view.getUint16(56, true);
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      if (at + 56 > bytes.length) break;
      if (view.getUint32(at, true) !== PT_INTERP) continue;
      const offset = Number(view.getBigUint64(at + 8, true));
      const size = Number(view.getBigUint64(at + 32, true));
      const interpreter = new TextDecoder().decode(bytes.subarray(offset, offset + size)).replace(/\0+$/, "");
      return { os: "linux", arch, libc: interpreter.includes("ld-musl-") ? "musl" : "glibc" };
    }
    return undefined;
  }
  if (view.getUint32(0, true) === 0xfeedfacf) {
    const arch = MACHO_CPUS[view.getUint32(4, true)];
    if (!arch || view.getUint32(12, true) !== MH_EXECUTE) return undefined;
    return { os: "darwin", arch };
  }
  return undefined;
}

function readHead(path: string, length: number): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const buffer = new Uint8Array(length);
    return buffer.subarray(0, readSync(fd, buffer, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}

const CS_MAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CS_MAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_HASHTYPE_SHA256 = 2;
const LC_CODE_SIGNATURE = 0x1d;

/**
 * Checks a Mach-O executable's embedded (ad-hoc) signature the way macOS does before running it
 * on Apple silicon: every page up to the code limit hashes to its slot in the code directory.
 * Returns what is wrong, or undefined when the signature covers the file as it is.
 */
export function codeSignatureProblem(path: string): string | undefined {
  const file = readFileSync(path);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (view.getUint32(0, true) !== 0xfeedfacf) return "not a 64-bit Mach-O file";
  const commands = view.getUint32(16, true);
  let at = 32;
  let signature: { offset: number; size: number } | undefined;
  for (let i = 0; i < commands; i++) {
    if (view.getUint32(at, true) === LC_CODE_SIGNATURE) {
      signature = { offset: view.getUint32(at + 8, true), size: view.getUint32(at + 12, true) };
    }
    at += view.getUint32(at + 4, true);
  }
  if (!signature) return "no LC_CODE_SIGNATURE: macOS on Apple silicon refuses to run it";
  const blob = signature.offset;
  if (view.getUint32(blob, false) !== CS_MAGIC_EMBEDDED_SIGNATURE) return "the signature is not an embedded signature blob";
  const count = view.getUint32(blob + 8, false);
  for (let i = 0; i < count; i++) {
    const entry = blob + 12 + i * 8;
    if (view.getUint32(entry, false) !== 0) continue;
    const cd = blob + view.getUint32(entry + 4, false);
    if (view.getUint32(cd, false) !== CS_MAGIC_CODEDIRECTORY) return "slot 0 is not a code directory";
    const hashOffset = view.getUint32(cd + 16, false);
    const codeSlots = view.getUint32(cd + 28, false);
    const codeLimit = view.getUint32(cd + 32, false);
    const hashSize = view.getUint8(cd + 36);
    const hashType = view.getUint8(cd + 37);
    const pageSize = 2 ** view.getUint8(cd + 39);
    if (hashType !== CS_HASHTYPE_SHA256 || hashSize !== 32) return `code directory hash type ${hashType} is not SHA-256`;
    if (codeLimit !== signature.offset) return `the signature covers ${codeLimit} bytes but the code is ${signature.offset}`;
    if (codeSlots !== Math.ceil(codeLimit / pageSize)) return `${codeSlots} page hashes for ${codeLimit} bytes`;
    for (let page = 0; page < codeSlots; page++) {
      const start = page * pageSize;
      const digest = createHash("sha256").update(file.subarray(start, Math.min(start + pageSize, codeLimit))).digest();
      const slot = cd + hashOffset + page * hashSize;
      if (!digest.equals(file.subarray(slot, slot + hashSize))) return `page ${page} does not match its hash in the signature`;
    }
    return undefined;
  }
  return "the signature has no code directory";
}

/** The release target an executable's headers say it is for, e.g. "linux-arm64-musl". */
export function targetOfExecutable(path: string): string | undefined {
  const format = executableFormat(path);
  if (!format) return undefined;
  return `${format.os}-${format.arch}${format.libc === "musl" ? "-musl" : ""}`;
}

export function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** SHA256SUMS as `sha256sum -c` reads it: `<hex>  <name>` per line. */
export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (match?.[1] && match[2]) sums.set(match[2], match[1]);
  }
  return sums;
}

export interface ReleaseFile {
  target: ReleaseTarget;
  name: string;
  path: string;
  bytes: number;
  sha256: string;
  /** macOS only: "valid", or what is wrong with the ad-hoc code signature Bun wrote. */
  signature?: string | undefined;
}

export interface ReleaseOptions {
  targets?: readonly ReleaseTarget[];
  outDir?: string;
  offline?: boolean;
  stamp?: BuildStamp;
}

/** Builds every target into `outDir` (emptied first) and writes SHA256SUMS. */
export async function release(options: ReleaseOptions = {}): Promise<ReleaseFile[]> {
  const targets = options.targets ?? RELEASE_TARGETS;
  const outDir = resolve(options.outDir ?? join(ROOT, RELEASE_DIR));
  const stamp = options.stamp ?? buildStamp();
  prepareOutDir(outDir);
  // Resolve every runtime before compiling anything: a missing one fails in seconds, not minutes.
  const runtimes = new Map(targets.map((target) => [target, runtimeFor(target, options.offline ?? false)]));
  const files: ReleaseFile[] = [];
  for (const target of targets) {
    const name = releaseName(target);
    const staging = join(outDir, `.build-${target}`);
    // Each build also writes its chunks' source maps; they stay out of the release.
    await compile(join(ROOT, "src/cli/main.ts"), join(staging, "ve"), target, stamp, runtimes.get(target));
    const path = join(outDir, name);
    renameSync(join(staging, "ve"), path);
    rmSync(staging, { recursive: true, force: true });
    const found = targetOfExecutable(path);
    if (found !== target) throw new ReleaseError(`${path} was built for ${target} but its headers say ${found ?? "not an executable"}`);
    // Not fatal: install.sh re-signs ad hoc on the Mac (codesign ships with macOS), and a person
    // downloading by hand is told to in docs/release.md. Reported so it is never a surprise.
    const signature = target.startsWith("darwin-") ? (codeSignatureProblem(path) ?? "valid") : undefined;
    files.push({ target, name, path, bytes: statSync(path).size, sha256: sha256(path), signature });
  }
  // The installer travels with the binaries: `sh install.sh` in a downloaded release folder works.
  const installer = join(outDir, INSTALLER);
  copyFileSync(join(ROOT, INSTALLER), installer);
  chmodSync(installer, 0o755);
  const listed = [...files.map((f) => ({ name: f.name, sha256: f.sha256 })), { name: INSTALLER, sha256: sha256(installer) }];
  const sums = listed.sort((a, b) => a.name.localeCompare(b.name)).map((f) => `${f.sha256}  ${f.name}\n`);
  await Bun.write(join(outDir, SUMS_FILE), sums.join(""));
  return files;
}

/** Empties a previous release; refuses a directory that holds anything else. */
function prepareOutDir(outDir: string): void {
  if (existsSync(outDir)) {
    const foreign = readdirSync(outDir).filter((name) => !(name === SUMS_FILE || name === INSTALLER || name.startsWith("ve-") || name.startsWith(".build-")));
    if (foreign.length > 0) {
      throw new ReleaseError(`${outDir} holds files that are not a release (${foreign.slice(0, 3).join(", ")}); choose an empty --out directory.`);
    }
    rmSync(outDir, { recursive: true, force: true });
  }
  mkdirSync(outDir, { recursive: true });
}

function parseArgs(argv: string[]): ReleaseOptions {
  const targets: ReleaseTarget[] = [];
  const options: ReleaseOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new ReleaseError(`${arg} needs a value`);
      return next;
    };
    if (arg === "--target") {
      const target = value();
      const resolved = target === "host" ? hostTarget() : target;
      if (!(RELEASE_TARGETS as readonly string[]).includes(resolved)) {
        throw new ReleaseError(`unknown --target ${target}; use host or one of ${RELEASE_TARGETS.join(", ")}`);
      }
      targets.push(resolved as ReleaseTarget);
    } else if (arg === "--out") {
      options.outDir = value();
    } else if (arg === "--offline") {
      options.offline = true;
    } else {
      throw new ReleaseError(`unknown argument ${arg}; usage: bun run release.ts [--target T]... [--out DIR] [--offline]`);
    }
  }
  if (targets.length > 0) options.targets = targets;
  return options;
}

if (import.meta.main) {
  try {
    const options = parseArgs(process.argv.slice(2));
    const started = performance.now();
    const files = await release(options);
    const width = Math.max(...files.map((f) => f.name.length));
    for (const f of files) console.log(`${f.name.padEnd(width)}  ${(f.bytes / 1e6).toFixed(1).padStart(6)} MB  ${f.sha256}`);
    for (const f of files.filter((f) => f.signature !== undefined && f.signature !== "valid")) {
      console.log(`warning: ${f.name}: code signature: ${f.signature}; install.sh re-signs it ad hoc on macOS (see docs/release.md)`);
    }
    const dir = resolve(options.outDir ?? join(ROOT, RELEASE_DIR));
    console.log(`wrote ${files.length} files and ${SUMS_FILE} to ${dir} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    console.error(`release: ${(error as Error).message}`);
    process.exit(1);
  }
}
