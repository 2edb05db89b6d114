// Success responses: every body is checked against its schema before it leaves, so a response
// can never drift from models.ts, and serialised once (the cache keeps the text).
import type { Static, TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { textResponse } from "../daemon/front.ts";
import { VERSION_HEADER } from "../version.ts";

export type Serializer<T extends TSchema> = (value: Static<T>) => string;

/** JSON text of a value that must match `schema`; a mismatch is a bug, answered with a 500. */
export function serializer<T extends TSchema>(schema: T, name: string): Serializer<T> {
  // Compiled at the first answer, not here: every route's operation is made when its module
  // loads, and compiling all their schemas at once weighed ~3 MB of the idle daemon's RSS.
  let check: ReturnType<typeof TypeCompiler.Compile<T>> | undefined;
  return (value) => {
    check ??= TypeCompiler.Compile(schema);
    if (!check.Check(value)) {
      const first = check.Errors(value).First();
      throw new Error(`${name} response does not match its schema at '${first?.path}': ${first?.message}`);
    }
    return JSON.stringify(value);
  };
}

export function jsonResponse(body: string, version: string, status = 200): Response {
  return textResponse(body, {
    status,
    headers: { "content-type": "application/json", [VERSION_HEADER]: version },
  });
}
