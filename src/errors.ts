// Every failure a person or a script can see is a VeError with a stable snake_case code.
// The HTTP status of each code is decided in api/errors.ts, the exit code in cli/exit.ts;
// nothing else maps errors.

export const ERROR_CODES = [
  // Request failures, from the store or the API.
  "validation_failed",
  "not_found",
  "already_exists",
  "invalid_transition",
  "blocked",
  "dependency_cycle",
  "has_dependents",
  "stale_write",
  // HTTP-level failures.
  "unknown_route",
  "method_not_allowed",
  "payload_too_large",
  "unsupported_media_type",
  "forbidden",
  "unauthorized",
  "internal",
  // Database files the daemon refuses to use.
  "schema_too_new",
  "database_corrupt",
  "database_unavailable",
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
  // The engine's git work.
  "git_missing",
  "git_failed",
  "backend_missing",
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
