// Options every Bun.serve of the daemon takes, so that what Bun itself answers is JSON with
// our error shape too. `development: false` turns off Bun's HTML error page (stack frames,
// source lines, paths), which is on unless NODE_ENV=production; `error` answers whatever a
// fetch handler throws outside the app (the app answers its own errors).
//
// Not covered, because Bun.serve offers no hook for them: requests its HTTP parser rejects
// before any handler runs (431 for headers over its limit, 505 for an unknown HTTP version,
// 400 for a malformed request line, header or chunked body; an unknown method gets the
// connection closed). Those answers have an empty body and no content type.
import { VeError } from "../errors.ts";
import { VERSION, VERSION_HEADER } from "../version.ts";
import { errorResponse } from "./errors.ts";

export interface BunServeOptions {
  development: false;
  error: (error: unknown) => Response;
}

/** `logError` is where a failure is reported with its stack (the daemon log). */
export function bunServeOptions(logError: (message: string) => void): BunServeOptions {
  return {
    development: false,
    error(error) {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      try {
        logError(`internal error outside the app: ${detail}`);
      } catch {
        // The answer matters more than the log line (a full disk must not turn it into a crash).
      }
      return errorResponse(
        new VeError("internal", "The daemon failed to handle this request; this is a bug, the daemon log has the details."),
        { [VERSION_HEADER]: VERSION },
      );
    },
  };
}
