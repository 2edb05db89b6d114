// What answers a fetch handler that throws outside the app (the app answers its own errors):
// JSON with our error shape, never Bun's HTML error page (stack frames, source lines, paths),
// which Bun.serve shows unless `development: false` (or NODE_ENV=production). The daemon's
// HTTP front (src/daemon/front.ts) uses `error`; it also answers, in JSON, the requests that
// Bun.serve's own parser refused with an empty body (431, 505, 400, an unknown method), which
// is why the daemon does not use Bun.serve.
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
