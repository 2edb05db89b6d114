// Request bodies: JSON only, at most MAX_BODY_BYTES, read without buffering more than that.
import { VeError } from "../errors.ts";

export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * No request shape nests deeper than 3; a deeply nested document is refused before parsing,
 * because validating one (Elysia serialises the rejected value) can exhaust the stack.
 */
export const MAX_JSON_DEPTH = 32;

function tooLarge(): VeError {
  return new VeError("payload_too_large", `The request body is over ${MAX_BODY_BYTES} bytes; send a smaller JSON object.`, {
    limit_bytes: MAX_BODY_BYTES,
  });
}

function unsupportedType(type: string): VeError {
  return new VeError(
    "unsupported_media_type",
    `The request body must be JSON sent with 'Content-Type: application/json'${type ? `, not '${type}'` : ""}.`,
    { content_type: type || null },
  );
}

async function readLimited(request: Request): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : new Uint8Array(Bun.concatArrayBuffers(chunks));
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Whether arrays and objects in JSON text nest deeper than `limit` (brackets in strings aside). */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

export async function readJsonBody(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const type = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type !== "" && type !== "application/json") throw unsupportedType(type);
  const bytes = await readLimited(request);
  if (bytes.byteLength === 0) {
    throw new VeError("validation_failed", "The request body is empty; send a JSON object.", { field: "body" });
  }
  if (type === "") throw unsupportedType(type);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new VeError("validation_failed", "The request body is not valid UTF-8; send a JSON object.", { field: "body" });
  }
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new VeError("validation_failed", `The request body nests deeper than ${MAX_JSON_DEPTH} levels; send a flat JSON object.`, {
      field: "body",
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new VeError("validation_failed", `The request body is not valid JSON (${reason}).`, { field: "body" });
  }
}
