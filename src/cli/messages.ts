// The daemon words its errors for API clients: JSON field names (`blocked_by[1]`,
// `expected_updated_at`), `force` as a body field, `or null`. A person at the terminal typed
// flags, so before an error is shown the CLI says the same thing in the command's own terms:
// the flag or argument each field came from, the value given there, and `--force` only where
// this command has it. Codes and details stay as the daemon sent them, for scripts.
import { chunkNameProblem, quoteChunkName } from "../domain.ts";
import { REQUEST_ERROR_CODES, VeError } from "../errors.ts";
import type { ParsedArgs, VeArgDef } from "./command-defs.ts";

/** Errors the daemon words; the CLI's own (usage, not running, ...) already speak its language. */
const REQUEST_CODES: ReadonlySet<string> = new Set(REQUEST_ERROR_CODES);

/** How a field is named where the command that failed has no flag for it. */
const ELSEWHERE: Record<string, string> = {
  blocked_by: "the blockers",
  worktree: "the worktree",
  expected_updated_at: "the expected update time",
};

interface Terms {
  defs: Record<string, VeArgDef>;
  args: ParsedArgs;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** How the command names field `field`: `--blocked-by`, `CHUNK`, `NEW_STATUS`, or undefined. */
function labelOf(field: string, { defs, args }: Terms): string | undefined {
  const flag = field.replaceAll("_", "-");
  // `--goal-file F` gives the goal without --goal: name the flag that was typed.
  if (args[flag] === undefined && typeof args[`${flag}-file`] === "string") return `the text of --${flag}-file`;
  const def = defs[flag];
  if (def && def.type !== "positional") return `--${flag}`;
  // The unit's own name reads better as words than as the placeholder in the usage line.
  if ((field === "chunk" || field === "chunks") && defs[field]?.type === "positional") return "Chunk name";
  if (defs[`new_${field}`]?.type === "positional") return `NEW_${field.toUpperCase()}`;
  return undefined;
}

/** The value the user gave for `field` (`blocked_by[1]` is the second --blocked-by value). */
function valueOf(field: string, index: number | undefined, terms: Terms): string | undefined {
  const flag = field.replaceAll("_", "-");
  const key = terms.defs[flag] ? flag : terms.defs[field] ? field : terms.defs[`new_${field}`] ? `new_${field}` : undefined;
  if (key === undefined) return undefined;
  const value = terms.args[key];
  if (Array.isArray(value)) return index === undefined ? undefined : value[index];
  return typeof value === "string" && index === undefined ? value : undefined;
}

/** `blocked_by[1]` at the start of a validation message -> `--blocked-by 'a/b'`. */
function rewriteSubject(message: string, field: string, terms: Terms): string {
  const match = /^([a-z_]+)(?:\[(\d+)\])?$/.exec(field);
  if (!match) return message;
  const base = match[1] as string;
  const index = match[2] === undefined ? undefined : Number(match[2]);
  const label = labelOf(base, terms);
  if (label === undefined || !message.startsWith(`${field} `)) return message;
  const value = valueOf(base, index, terms);
  // A chunk name gets the one rule it broke (the daemon may state the whole rule instead).
  const problem = value !== undefined && (base === "chunk" || base === "chunks" || base === "blocked_by") ? chunkNameProblem(value) : undefined;
  if (value !== undefined && problem !== undefined) return `${label} ${quoteChunkName(value)} ${problem}.`;
  let rest = message.slice(field.length);
  // A message that already quotes the value right after the field keeps its wording.
  const quoted = value !== undefined && !rest.startsWith(" '") ? ` '${value}'` : "";
  // `null` is how the API unsets a field; the CLI has a --clear- flag for that, or nothing.
  if (rest.includes(", or null")) {
    const clear = terms.defs[`clear-${base.replaceAll("_", "-")}`] ? ` (--clear-${base.replaceAll("_", "-")} unsets it)` : "";
    rest = rest.replace(/,? or null\.?$/, `${clear}.`);
  }
  return `${label}${quoted}${rest}`;
}

/** Every field name left in the message becomes the flag that sets it, or where to set it. */
function rewriteFields(message: string, terms: Terms): string {
  const blockedBy = labelOf("blocked_by", terms);
  const clear = terms.defs["clear-blocked-by"] ? " (or --clear-blocked-by)" : "";
  // "remove them from blocked_by": with this command's flags, or with the command that has them.
  let out = message.replace(
    /\bremove (it|them) from (?:(their|its) )?blocked_by(?![\w-])/g,
    (_, who: string, whose: string | undefined) =>
      blockedBy
        ? `leave ${who} out of ${blockedBy}${clear}`
        : `remove ${who} from ${whose ?? "the"} blockers with \`ve orch work-unit update\` (--blocked-by, --clear-blocked-by)`,
  );
  for (const field of ["expected_updated_at", "blocked_by", "worktree"]) {
    const pattern = new RegExp(`(?<![\\w-])${escapeRegExp(field)}(?![\\w-])`, "g");
    if (!pattern.test(out)) continue;
    out = out.replace(pattern, labelOf(field, terms) ?? ELSEWHERE[field] ?? field);
  }
  return out;
}

/** `pass force`, `with force`: `--force` where this command has it; else the hint is dropped. */
function rewriteForce(message: string, terms: Terms): string {
  const hasForce = terms.defs.force?.type === "boolean";
  if (hasForce) {
    return message
      .replace(/\b(?:pass|passing|use|set) force\b/g, "add --force")
      .replace(/\bwith force\b/g, "with --force")
      .replace(/\bforce: ?true\b/g, "--force");
  }
  return message
    .replace(/;\s*(?:pass|use|set|add) force to override\b/g, "")
    .replace(/\s*unless you (?:pass|use|set|add) force\b/g, "")
    .replace(/,? or [a-z ]*with force[^.;]*/g, "");
}

/** `error` as the command whose arguments are `defs`/`args` should word it. */
export function inCliTerms(error: VeError, defs: Record<string, VeArgDef>, args: ParsedArgs): VeError {
  if (!REQUEST_CODES.has(error.code)) return error;
  const terms: Terms = { defs, args };
  const field = (error.details as { field?: unknown } | undefined)?.field;
  let message = error.message;
  if (typeof field === "string") message = rewriteSubject(message, field, terms);
  message = rewriteForce(rewriteFields(message, terms), terms);
  if (error.code === "stale_write" && labelOf("expected_updated_at", terms)) {
    const { chunk, expected_updated_at: expected, updated_at: current } = (error.details ?? {}) as Record<string, unknown>;
    if (typeof chunk === "string" && typeof expected === "string" && typeof current === "string") {
      message =
        `Work unit '${chunk}' changed after ${expected}, the time given with --expected-updated-at (it last changed at ${current}); ` +
        `look at it again with \`ve orch work-unit show ${chunk}\` before retrying.`;
    }
  }
  return message === error.message ? error : new VeError(error.code, message, error.details);
}
