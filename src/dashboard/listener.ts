// The dashboard's own listener: a Bun.serve on 127.0.0.1 (or `--listen ADDR`) beside the
// daemon's Unix socket, kept apart from the socket's server (src/daemon/server.ts). Every
// request goes through the access rules (access.ts); what passes is the page at `/` or the
// daemon's JSON API under `/api/` (the same app, the same routes).
import { errorResponse } from "../api/errors.ts";
import { type BunServeOptions } from "../api/serve-options.ts";
import { VERSION, VERSION_HEADER } from "../version.ts";
import { CODE_PARAMETER, DashboardAccess, allowedHosts } from "./access.ts";

export type Fetch = (request: Request) => Response | Promise<Response>;

export interface DashboardListenerOptions {
  /** The daemon's app (no token: the access rules stand in for it). */
  api: Fetch;
  /** What `/` and every non-API path answer once logged in. */
  page: Fetch;
  /** `dashboard.port`; 0 picks a free one. */
  port: number;
  /** `--listen ADDR`; 127.0.0.1 when not given. */
  listen?: string | undefined;
  serve: BunServeOptions;
}

const API_PREFIX = "/api";

export class DashboardListener {
  readonly access = new DashboardAccess();
  readonly #server: ReturnType<typeof Bun.serve>;
  readonly #hosts: string[];
  readonly #hostname: string;

  constructor(private readonly options: DashboardListenerOptions) {
    this.#hostname = options.listen ?? "127.0.0.1";
    this.#server = Bun.serve({
      hostname: this.#hostname,
      port: options.port,
      development: false,
      error: options.serve.error,
      fetch: (request) => this.#fetch(request),
    });
    this.#hosts = allowedHosts(this.port, options.listen);
  }

  get port(): number {
    return this.#server.port ?? 0;
  }

  /** A new printed URL: its code works once. */
  url(): string {
    const host = this.options.listen && this.#hosts.length > 2 ? this.#hosts[2] : `127.0.0.1:${this.port}`;
    return `http://${host}/?${CODE_PARAMETER}=${this.access.mintCode()}`;
  }

  #fetch(request: Request): Response | Promise<Response> {
    const decision = this.access.decide(request, this.#hosts);
    if (decision.kind === "refuse") return errorResponse(decision.error, { [VERSION_HEADER]: VERSION });
    if (decision.kind === "login") {
      // 303: the address bar ends at the path without the code, so a reload or a shared
      // screenshot never shows a code (used or not).
      return new Response(null, {
        status: 303,
        headers: { location: decision.location, "set-cookie": decision.cookie, "cache-control": "no-store" },
      });
    }
    const url = new URL(request.url);
    if (url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`)) {
      const inner = new URL(url.pathname.slice(API_PREFIX.length) || "/", url);
      inner.search = url.search;
      // The app's own rule refuses any request with an Origin (no page may drive the socket
      // API); here the dashboard's rules have just checked it and the cookie, so the request
      // goes on as the socket's clients send it, without either.
      const forwarded = new Request(inner.href, request);
      forwarded.headers.delete("origin");
      forwarded.headers.delete("cookie");
      return this.options.api(forwarded);
    }
    return this.options.page(request);
  }

  async stop(): Promise<void> {
    await this.#server.stop(true);
  }
}
