// The guards at the phase commit and at the landing: a change that deletes most of the base's
// files (a half-made worktree once committed the deletion of all 200), or adds a file too large
// for a git host or more files than anyone reviews, needs a person, whatever caused it. The
// decisions are here, over figures; src/git/guards.ts reads the figures.

export interface GuardLimits {
  /** guard.max_deleted_ratio: 0..1; 1 lets any deletion through. */
  maxDeletedRatio: number;
  /** guard.max_file_mb. */
  maxFileMb: number;
  /** guard.max_files. */
  maxFiles: number;
}

/** A refused change: a stable code for scripts and the figures in words. */
export interface GuardRefusal {
  code: "too_many_deletions" | "file_too_large" | "too_many_files";
  /** What the change does, with the figures: "deletes 18 of 20 files of main (90%, ...)". */
  summary: string;
  /** The paths it is about. */
  paths: string[];
  /** `ve orch config` arguments that would let it through: "guard.max_files 60". */
  raise: string;
}

const BYTES_PER_MB = 1024 * 1024;
const PATHS_SHOWN = 10;

export function shownPaths(paths: readonly string[]): string {
  return paths.slice(0, PATHS_SHOWN).join(", ") + (paths.length > PATHS_SHOWN ? `, ... (${paths.length} in all)` : "");
}

/**
 * Refused when more than `maxRatio` of the base's files would be deleted (so all of them too,
 * unless the ratio is 1). A base with no files has nothing to lose.
 */
export function deletionVerdict(input: { deleted: readonly string[]; baseFiles: number; base: string; maxRatio: number }): GuardRefusal | null {
  const { deleted, baseFiles, base, maxRatio } = input;
  if (baseFiles === 0 || deleted.length === 0 || deleted.length / baseFiles <= maxRatio) return null;
  const percent = Math.floor((deleted.length / baseFiles) * 100);
  return {
    code: "too_many_deletions",
    summary: `deletes ${deleted.length} of ${baseFiles} files of ${base} (${percent}%, guard.max_deleted_ratio is ${maxRatio})`,
    paths: [...deleted],
    raise: "guard.max_deleted_ratio 1",
  };
}

/** Refused when a file added or changed is larger than `maxFileMb`; names each, largest first. */
export function fileSizeVerdict(files: readonly { path: string; bytes: number }[], maxFileMb: number): GuardRefusal | null {
  const large = files.filter((f) => f.bytes > maxFileMb * BYTES_PER_MB).sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path));
  if (large.length === 0) return null;
  const named = large.map((f) => `${f.path} (${(f.bytes / BYTES_PER_MB).toFixed(1)} MB)`);
  return {
    code: "file_too_large",
    summary: `adds or changes ${large.length === 1 ? "a file" : `${large.length} files`} larger than guard.max_file_mb (${maxFileMb} MB): ${shownPaths(named)}`,
    paths: large.map((f) => f.path),
    raise: `guard.max_file_mb ${Math.max(maxFileMb * 2, Math.ceil((large[0]?.bytes ?? 0) / BYTES_PER_MB))}`,
  };
}

/** Refused when more than `maxFiles` files are added. */
export function fileCountVerdict(added: readonly string[], maxFiles: number): GuardRefusal | null {
  if (added.length <= maxFiles) return null;
  return { code: "too_many_files", summary: `adds ${added.length} files, more than guard.max_files (${maxFiles}): ${shownPaths(added)}`, paths: [...added], raise: `guard.max_files ${Math.max(maxFiles * 2, added.length)}` };
}

/** Thrown by the phase commit when a guard refuses it; the engine makes it an attention. */
export class GuardRefused extends Error {
  override readonly name = "GuardRefused";
  constructor(
    readonly refusal: GuardRefusal,
    /** The base commit the deletions were counted against, when it is about deletions. */
    readonly from?: string,
  ) {
    super(refusal.summary);
  }
}

/** The first guard `figures` cross, in the order deletions, file sizes, file count. */
export function commitVerdict(
  figures: { deletions?: { deleted: readonly string[]; baseFiles: number }; sizes: readonly { path: string; bytes: number }[]; added: readonly string[] },
  base: string,
  limits: GuardLimits,
): GuardRefusal | null {
  return (
    (figures.deletions ? deletionVerdict({ ...figures.deletions, base, maxRatio: limits.maxDeletedRatio }) : null) ??
    fileSizeVerdict(figures.sizes, limits.maxFileMb) ??
    fileCountVerdict(figures.added, limits.maxFiles)
  );
}
