// Who may use the dashboard's port (DESIGN.md, "v3: the dashboard"). A browser cannot present
// the daemon's bearer token, so the printed URL carries a one-time code that the page trades
// for an HttpOnly, SameSite=Strict session cookie. The Host check stops DNS rebinding (a page
// on evil.example resolving to 127.0.0.1 sends its own name as Host); the Origin check on
// anything that changes state stops a cross-site form post riding on the cookie. No CORS:
// no answer ever carries Access-Control-Allow-* headers. Pure rules plus one small holder of
// codes and sessions; the listener (listener.ts) does the I/O.
import { VeError } from "../errors.ts";

/** How long a printed URL can still be opened: long enough to switch to the browser. */
export const CODE_TTL_MS = 5 * 60 * 1000;
/** The session cookie's name. */
export const SESSION_COOKIE = "ve_dashboard";
/** The query parameter of the printed URL that carries the one-time code. */
export const CODE_PARAMETER = "code";

const SAFE_METHODS = new Set(["GET", "HEAD"]);

/** 256 random bits, hex. */
export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The `Host` values this listener answers to: loopback names always, and the address it was
 * told to listen on (`--listen ADDR`) when that is not a wildcard. IPv6 literals are bracketed,
 * as a browser sends them.
 */
export function allowedHosts(port: number, listen?: string): string[] {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (listen && listen !== "0.0.0.0" && listen !== "::" && listen !== "127.0.0.1" && listen !== "localhost") {
    hosts.push(listen.includes(":") ? `[${listen}]:${port}` : `${listen}:${port}`);
  }
  return hosts;
}

export function hostAllowed(host: string | null, hosts: readonly string[]): boolean {
  return host !== null && hosts.includes(host.toLowerCase());
}

/**
 * A state-changing request must come from the dashboard's own page: its `Origin` is one of the
 * allowed hosts over http. A request with no Origin is refused too (browsers send it on every
 * non-GET fetch and form post; a script that needs none uses the Unix-socket API).
 */
export function originAllowed(method: string, origin: string | null, hosts: readonly string[]): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return true;
  if (origin === null) return false;
  return hosts.some((host) => origin.toLowerCase() === `http://${host}`);
}

/** The value of one cookie in a `Cookie` header, or undefined. */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(session: string): string {
  return `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`;
}

/** The outcome of the access rules for one request. */
export type Decision =
  | { kind: "refuse"; error: VeError }
  /** A valid one-time code: set the cookie and send the browser to the same path without it. */
  | { kind: "login"; cookie: string; location: string }
  | { kind: "pass" };

const AGAIN = "run `ve orch dashboard` for a new URL and open it";

/** One-time codes and the sessions they became; lives as long as the listener. */
export class DashboardAccess {
  readonly #codes = new Map<string, number>();
  readonly #sessions = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new code for a printed URL; each `ve orch dashboard` mints one. */
  mintCode(): string {
    const code = randomSecret();
    this.#codes.set(code, this.now() + CODE_TTL_MS);
    return code;
  }

  /** A code works once, before it expires; it is gone after either. */
  #exchange(code: string): string | undefined {
    const expires = this.#codes.get(code);
    if (expires === undefined) return undefined;
    this.#codes.delete(code);
    if (this.now() > expires) return undefined;
    const session = randomSecret();
    this.#sessions.add(session);
    return session;
  }

  decide(request: Request, hosts: readonly string[]): Decision {
    const host = request.headers.get("host");
    if (!hostAllowed(host, hosts)) {
      return {
        kind: "refuse",
        error: new VeError(
          "forbidden",
          `The dashboard answers only to ${hosts.join(" or ")}, not to Host ${host ?? "(none)"}; open the URL \`ve orch dashboard\` printed.`,
        ),
      };
    }
    if (!originAllowed(request.method, request.headers.get("origin"), hosts)) {
      return {
        kind: "refuse",
        error: new VeError(
          "forbidden",
          `A ${request.method} to the dashboard must come from its own page (Origin http://${hosts[0]}); this one came from ${request.headers.get("origin") ?? "no Origin"}.`,
        ),
      };
    }
    const url = new URL(request.url);
    const code = url.searchParams.get(CODE_PARAMETER);
    if (code !== null && request.method === "GET") {
      const session = this.#exchange(code);
      if (!session) {
        return {
          kind: "refuse",
          error: new VeError("unauthorized", `This dashboard code was used already or has expired; ${AGAIN}.`),
        };
      }
      url.searchParams.delete(CODE_PARAMETER);
      return { kind: "login", cookie: sessionCookie(session), location: `${url.pathname}${url.search}` };
    }
    const session = cookieValue(request.headers.get("cookie"), SESSION_COOKIE);
    if (session === undefined || !this.#sessions.has(session)) {
      return { kind: "refuse", error: new VeError("unauthorized", `No dashboard session; ${AGAIN}.`) };
    }
    return { kind: "pass" };
  }
}
