import { version } from "../package.json" with { type: "json" };

/** The version of this build, from package.json (inlined by the bundler). */
export const VERSION: string = version;

/**
 * Orders two versions (`major.minor.patch`, a `-pre` suffix sorting before its release):
 * negative when `a` is older, 0 when equal, positive when newer. Serves ve's own version
 * skew and the agent CLIs' minimum versions alike.
 */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const [core = "", pre] = v.split("-", 2);
    return { parts: core.split(".").map((n) => Number.parseInt(n, 10) || 0), pre };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.parts.length, y.parts.length); i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

/** Carried by every API response, so a client notices a daemon of another version. */
export const VERSION_HEADER = "x-ve-version";

// Replaced by build.ts (`define`) in every compiled binary; undeclared when run from source.
declare const VE_BUILD_COMMIT: string;
declare const VE_BUILD_DATE: string;
declare const VE_BUILD_TARGET: string;

/** What `ve --version --json` and the daemon's `GET /status` report about the program. */
export interface BuildInfo {
  version: string;
  /** The git commit built, with "-dirty" when the tree had uncommitted changes; null from source. */
  commit: string | null;
  /** When the binary was built (ISO 8601, UTC); null from source. */
  built_at: string | null;
  /** `<os>-<arch>[-musl]` the binary was built for, or the one running it when run from source. */
  target: string;
}

/** The target a compiled binary was built for; undefined when run from source. */
export const BUILD_TARGET: string | undefined = typeof VE_BUILD_TARGET === "string" ? VE_BUILD_TARGET : undefined;

/** The target name of the machine running this process: `<os>-<arch>[-musl]`. */
export function hostTarget(): string {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform !== "linux") return base;
  // Bun reports the glibc it runs on; a Bun linked against musl has none.
  const report = (process as { report?: { getReport?: () => { header?: { glibcVersionRuntime?: string } } } })
    .report;
  return report?.getReport?.().header?.glibcVersionRuntime === undefined ? `${base}-musl` : base;
}

let info: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  info ??= {
    version: VERSION,
    commit: typeof VE_BUILD_COMMIT === "string" ? VE_BUILD_COMMIT : null,
    built_at: typeof VE_BUILD_DATE === "string" ? VE_BUILD_DATE : null,
    target: BUILD_TARGET ?? hostTarget(),
  };
  return info;
}
