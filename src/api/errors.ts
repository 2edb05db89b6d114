// The one place where an error becomes an HTTP response.
import { type ErrorCode, VeError } from "../errors.ts";

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  unknown_route: 404,
  method_not_allowed: 405,
  already_exists: 409,
  invalid_transition: 409,
  blocked: 409,
  dependency_cycle: 409,
  has_dependents: 409,
  stale_write: 409,
  status_mismatch: 409,
  scheduled_unit: 409,
  unit_running: 409,
  git_required: 409,
  not_waiting: 409,
  not_a_question: 409,
  git_failed: 409,
  git_missing: 503,
  backend_missing: 409,
  backend_too_old: 409,
  nothing_to_claim: 409,
  malformed_request: 400,
  request_timeout: 408,
  payload_too_large: 413,
  headers_too_large: 431,
  // RFC 9110's answer to a major version other than 1 (HTTP/2.0, HTTP/9.0 sent as text).
  http_version_not_supported: 505,
  unsupported_media_type: 415,
  database_unavailable: 503,
  // Expected conditions of the disk, not bugs: never 500. Reads keep being answered meanwhile.
  database_corrupt: 503,
  storage_unavailable: 503,
  storage_full: 507,
  daemon_stopping: 503,
  run_token_missing: 401,
  run_token_invalid: 401,
  run_not_open: 403,
};

export function httpStatusOfCode(code: ErrorCode): number {
  return HTTP_STATUS[code] ?? 500;
}

export function httpStatusOf(error: VeError): number {
  return httpStatusOfCode(error.code);
}

export function errorResponse(error: VeError, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(error.toBody()), {
    status: httpStatusOf(error),
    headers: { "content-type": "application/json", ...headers },
  });
}
