// The request path, read from the URL as Bun builds it and whatever the Host header was
// (issue 9 item 4). Bun writes `http://<Host><path>`, and only the path when the Host is
// empty or not a valid host (then the URL is relative). Elysia looks for the path's first
// slash from index 11, assuming a host of at least 4 characters ("http://a.bc"), so a
// shorter host shifted every route: such requests are given a canonical URL first.

/** Where Elysia starts looking for the path's slash (its `standardHostname` assumption). */
const ELYSIA_PATH_SEARCH_FROM = 11;
const CANONICAL_ORIGIN = "http://localhost";

/** Index of the path in `url`: 0 for a relative URL, else the first slash after the authority. */
export function pathStart(url: string): number {
  if (url.startsWith("/")) return 0;
  const scheme = url.indexOf("://");
  if (scheme === -1) return 0;
  const slash = url.indexOf("/", scheme + 3);
  return slash === -1 ? url.length : slash;
}

/** The path of a request URL, without its query. */
export function pathOf(url: string): string {
  const start = pathStart(url);
  const query = url.indexOf("?", start);
  const path = query === -1 ? url.slice(start) : url.slice(start, query);
  return path === "" ? "/" : path;
}

/**
 * The request as Elysia routes it correctly: itself when its host is long enough (the
 * common case costs one indexOf), otherwise a copy at a canonical origin. The headers,
 * Host included, are kept, so access rules still see what the client sent.
 */
export function routable(request: Request): Request {
  const url = request.url;
  const start = pathStart(url);
  if (start >= ELYSIA_PATH_SEARCH_FROM && url.startsWith("http://")) return request;
  const rest = url.slice(start);
  return new Request(CANONICAL_ORIGIN + (rest.startsWith("/") ? rest : `/${rest}`), request);
}
