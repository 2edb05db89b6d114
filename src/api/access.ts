// Who may talk to the daemon. No browser ever (a page could otherwise drive it); in TCP mode
// only a caller that read the token file, addressing the daemon by a loopback name (a DNS
// rebinding page arrives with its own host name).
import { VeError } from "../errors.ts";

export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "127.0.0.1"];

function hostName(hostHeader: string): string {
  const trimmed = hostHeader.trim().toLowerCase();
  if (trimmed.startsWith("[")) return trimmed.slice(0, trimmed.indexOf("]") + 1);
  const colon = trimmed.lastIndexOf(":");
  return colon === -1 ? trimmed : trimmed.slice(0, colon);
}

function sha256(text: string): Uint8Array {
  return new Bun.CryptoHasher("sha256").update(text).digest();
}

// Hashing first gives equal lengths, and the loop visits every byte whatever differs, so the
// time taken says nothing about the token. (node:crypto's timingSafeEqual would do the same
// but costs the daemon megabytes of resident memory to load.)
function sameSecret(given: string, expected: string): boolean {
  const a = sha256(given);
  const b = sha256(expected);
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0;
}

/** Refuses a request (throws a VeError) its route group does not admit. */
export type AccessRule = (request: Request, token: string | undefined) => void;

/** The JSON API: never a browser; in TCP mode a loopback Host and the bearer token. */
export const jsonApiAccess: AccessRule = (request, token) => checkAccess(request, token);

export function checkAccess(request: Request, token: string | undefined): void {
  if (request.headers.has("origin")) {
    throw new VeError(
      "forbidden",
      "Requests from web pages (with an Origin header) are refused; call the daemon from the ve CLI or a script.",
    );
  }
  if (token === undefined) return;
  const host = hostName(request.headers.get("host") ?? "");
  if (!LOOPBACK_HOSTS.includes(host)) {
    throw new VeError("forbidden", `Requests must address the daemon as localhost or 127.0.0.1, not '${host}'.`, {
      host,
    });
  }
  const authorization = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match || !sameSecret(match[1] as string, token)) {
    throw new VeError(
      "unauthorized",
      "Missing or wrong bearer token; send 'Authorization: Bearer <token>' with the token from .ve/orchestrator.token.",
    );
  }
}
