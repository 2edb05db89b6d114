// Every failure a person or a script can see is a VeError with a stable snake_case code.
// The HTTP status of each code is decided in api/errors.ts, the exit code in cli/exit.ts;
// nothing else maps errors.

/** Request failures, from the store or the API: the daemon words these for API clients. */
export const REQUEST_ERROR_CODES = [
  "validation_failed",
  "not_found",
  "already_exists",
  "invalid_transition",
  "blocked",
  "dependency_cycle",
  "has_dependents",
  "stale_write",
  "status_mismatch",
  "scheduled_unit",
  "unit_running",
  "nothing_to_claim",
] as const;

export const ERROR_CODES = [
  ...REQUEST_ERROR_CODES,
  // HTTP-level failures.
  "unknown_route",
  "method_not_allowed",
  "payload_too_large",
  // Requests the daemon's HTTP reader refuses before any route (src/daemon/front.ts).
  "malformed_request",
  "request_timeout",
  "headers_too_large",
  "http_version_not_supported",
  "unsupported_media_type",
  "forbidden",
  "unauthorized",
  "internal",
  // Database files the daemon refuses to use.
  "schema_too_new",
  "database_corrupt",
  "database_unavailable",
  // The disk under the project's state: full, or failing, read-only or not writable by us.
  "storage_full",
  "storage_unavailable",
  // Client-side: the daemon and the command line.
  "daemon_not_running",
  "daemon_unresponsive",
  "daemon_start_failed",
  "daemon_stop_failed",
  "daemon_stopping",
  "permission_denied",
  "bad_response",
  "usage",
  "io_failed",
  // A file or directory of the project (or the socket directory) that ve will not trust: a link,
  // another user's, open to other users, or not the kind of file ve keeps there.
  "unsafe_path",
  // The engine's git work.
  "git_missing",
  "git_failed",
  "backend_missing",
  "backend_too_old",
  "git_required",
  "not_waiting",
  "not_a_question",
  // An agent speaking for its run (`ve mcp`, `ve agent`): no run secret, a secret of no run (or
  // of another run), a run that has ended; and the client side: not started by a ve run at all.
  "run_token_missing",
  "run_token_invalid",
  "run_not_open",
  "not_in_run",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class VeError extends Error {
  override readonly name = "VeError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  toBody(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export function isVeError(error: unknown): error is VeError {
  return error instanceof VeError;
}

/**
 * What a system or SQLite error code says about the disk, with the sentence that tells a person
 * what to do: the codes it matches exactly, or by their start (SQLite's extended codes). Plain
 * strings, not regular expressions: every CLI run evaluates this module, and making the five
 * patterns cost about 25 us of each start.
 */
const STORAGE_FAULTS: readonly { codes: readonly string[]; prefix?: string; code: ErrorCode; cause: string; remedy: string }[] = [
  {
    codes: ["ENOSPC", "EDQUOT", "SQLITE_FULL"],
    code: "storage_full",
    cause: "the disk (or your quota) is full",
    remedy: "free space on that file system and retry",
  },
  {
    codes: ["EFBIG"],
    code: "storage_full",
    cause: "a file size limit was reached (EFBIG)",
    remedy: "raise the limit (`ulimit -f`) or free space, then retry",
  },
  {
    codes: ["EROFS"],
    prefix: "SQLITE_READONLY",
    code: "storage_unavailable",
    cause: "its file system is read-only",
    remedy: "remount it read-write (or move the project to a writable disk) and retry",
  },
  {
    codes: ["EACCES", "EPERM", "SQLITE_PERM", "SQLITE_AUTH"],
    code: "storage_unavailable",
    cause: "permission was denied",
    remedy: "make the file and its folder readable and writable by you (check their owner and mode) and retry",
  },
  {
    codes: ["EIO", "ENXIO", "ENODEV", "ESTALE"],
    prefix: "SQLITE_IOERR",
    code: "storage_unavailable",
    cause: "the disk reported an I/O error",
    remedy: "check the disk and the kernel log (`dmesg`), then retry",
  },
];

/** The error code a thrown system or SQLite error carries (`ENOSPC`, `SQLITE_FULL`), if any. */
export function systemErrorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * A full, read-only, failing or forbidden disk as a VeError naming `path`, or undefined when
 * `error` is not about the disk. `action` completes "Cannot ... <path>" ("write to", "create").
 * `full` overrides the classification when the caller checked the free space itself.
 */
export function storageFault(error: unknown, path: string, action: string, full = false): VeError | undefined {
  const code = systemErrorCode(error);
  const fault = full ? STORAGE_FAULTS[0] : code === undefined ? undefined : STORAGE_FAULTS.find((f) => f.codes.includes(code) || (f.prefix !== undefined && code.startsWith(f.prefix)));
  if (!fault) return undefined;
  return new VeError(fault.code, `Cannot ${action} ${path}: ${fault.cause}${code ? ` (${code})` : ""}; ${fault.remedy}.`, {
    path,
    system_code: code ?? null,
  });
}

/**
 * Whether a failure (a thrown error, or a child's message such as git's "fatal: ... No space
 * left on device") says the disk or the quota is full.
 */
export function isStorageFull(error: unknown): boolean {
  if (storageFault(error, "", "")?.code === "storage_full") return true;
  if (error instanceof VeError && error.code === "storage_full") return true;
  const details = error instanceof VeError ? (error.details as { stderr?: unknown } | undefined) : undefined;
  const text = `${error instanceof Error ? error.message : String(error)} ${typeof details?.stderr === "string" ? details.stderr : ""}`;
  return /No space left on device|Disk quota exceeded|\bENOSPC\b|\bEDQUOT\b|SQLITE_FULL|database or disk is full/i.test(text);
}
