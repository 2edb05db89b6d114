// Turns a TypeBox mismatch into the one sentence a person reads. Used by the store for its
// own input and by the API for what Elysia rejects, so both say the same thing.
import type { Static, TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { CHUNK_NAME_MARK, explainChunkName } from "./domain.ts";
import { VeError } from "./errors.ts";

/** `/blocked_by/2` -> `blocked_by[2]`; the root is named by the caller ("body", "query"). */
export function fieldName(path: string, root: string): string {
  if (path === "") return root;
  return path
    .slice(1)
    .split("/")
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join("");
}

function allowedFields(schema: TSchema | undefined): string[] {
  return schema && schema.type === "object" && schema.properties ? Object.keys(schema.properties) : [];
}

export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * `root` names the whole value; `rootSchema` lets an unknown-field message list the fields
 * that are allowed.
 */
export function describeValueError(error: ValueError, root: string, rootSchema?: TSchema): FieldProblem {
  const field = fieldName(error.path, root);
  const subject = error.path === "" ? `The request ${root}` : field;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return { field, message: `${field} is required` };
    case ValueErrorType.ObjectAdditionalProperties: {
      const allowed = allowedFields(error.schema.type === "object" ? error.schema : rootSchema);
      const hint = allowed.length > 0 ? `; allowed: ${allowed.join(", ")}` : "";
      return { field, message: `${field} is not a known field${hint}` };
    }
    default: {
      // A chunk name says which of its rules it broke, with the name quoted.
      if ((error.schema as Record<string, unknown>)[CHUNK_NAME_MARK] === true && typeof error.value === "string") {
        const named = explainChunkName(field, error.value);
        if (named !== undefined) return { field, message: named };
      }
      const explained = (error.schema as { errorMessage?: string }).errorMessage;
      return { field, message: `${subject} ${explained ?? error.message.toLowerCase()}` };
    }
  }
}

export function validationError(problem: FieldProblem): VeError {
  return new VeError("validation_failed", `${problem.message}.`, { field: problem.field });
}

/**
 * The path of the first string in `value` holding a lone UTF-16 surrogate (JSON allows
 * `"\ud800"`), or undefined. SQLite stores text as UTF-8, where such a string cannot exist:
 * it would be stored as U+FFFD, not as what the caller was answered.
 */
export function illFormedStringPath(value: unknown, path = ""): string | undefined {
  if (typeof value === "string") return value.isWellFormed() ? undefined : path;
  if (typeof value !== "object" || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = illFormedStringPath(item, `${path}/${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A compiled checker that returns the typed value or throws `validation_failed`. */
export function compileValidator<T extends TSchema>(schema: T, root: string): (value: unknown) => Static<T> {
  // Compiled at the first check, not here: validators are made when their modules load, and
  // compiling them then weighs on the idle daemon's RSS (see serializer in api/respond.ts).
  let compiled: ReturnType<typeof TypeCompiler.Compile<T>> | undefined;
  return (value: unknown) => {
    compiled ??= TypeCompiler.Compile(schema);
    if (compiled.Check(value)) {
      const bad = illFormedStringPath(value);
      if (bad === undefined) return value as Static<T>;
      const field = fieldName(bad, root);
      throw new VeError(
        "validation_failed",
        `${field} holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape), which cannot be stored; send well-formed Unicode text.`,
        { field },
      );
    }
    const first = compiled.Errors(value).First();
    if (!first) throw new VeError("validation_failed", `${root} is not valid.`, { field: root });
    throw validationError(describeValueError(first, root, schema));
  };
}
