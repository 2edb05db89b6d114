// Request bodies: JSON only, at most MAX_BODY_BYTES, read without buffering more than that.
import { VeError } from "../errors.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

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
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

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
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new VeError("validation_failed", `The request body is not valid JSON (${reason}).`, { field: "body" });
  }
}
