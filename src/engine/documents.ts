// A chunk's documents on its base branch, read without a working tree (`git show base:path`):
// they decide the phase a newly injected unit starts in, and GOAL.md's frontmatter names what
// the chunk depends on.
import type { Phase } from "../domain.ts";
import { runGit } from "../git/git.ts";
import { chunkDocPath } from "./prompts.ts";

export interface ChunkDocuments {
  goal: string | null;
  plan: string | null;
}

/** A file's text on `ref`, or null when it is not there. */
export async function readAtRef(repo: string, ref: string, path: string): Promise<string | null> {
  const result = await runGit(["show", `${ref}:${path}`], { cwd: repo });
  return result.code === 0 ? result.stdout : null;
}

export async function readChunkDocuments(repo: string, ref: string, chunk: string): Promise<ChunkDocuments> {
  const [goal, plan] = await Promise.all([
    readAtRef(repo, ref, chunkDocPath(chunk, "GOAL.md")),
    readAtRef(repo, ref, chunkDocPath(chunk, "PLAN.md")),
  ]);
  return { goal, plan };
}

/** No GOAL.md: GOAL. GOAL.md but no PLAN.md with content: PLAN. Both: IMPLEMENT. */
export function detectPhase(docs: ChunkDocuments): Phase {
  if (docs.goal === null) return "GOAL";
  if (docs.plan === null || stripFrontmatter(docs.plan).body.trim() === "") return "PLAN";
  return "IMPLEMENT";
}

export interface Frontmatter {
  body: string;
  /** `depends_on` as written: a flow list `[a, b]`, a block list, or one name. */
  dependsOn: string[];
}

function unquote(value: string): string {
  const v = value.trim();
  return (v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")) ? v.slice(1, -1) : v;
}

/**
 * The YAML frontmatter of a document, as far as ve reads it: `depends_on`. A full YAML parser
 * would be a dependency for one key; the forms people write for a list of names are read here
 * and anything else in the frontmatter is left alone.
 */
export function stripFrontmatter(text: string): Frontmatter {
  const normalized = text.replace(/^\uFEFF/, "");
  const match = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(normalized);
  if (!match) return { body: normalized, dependsOn: [] };
  const lines = (match[1] ?? "").split(/\r?\n/);
  const dependsOn: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const key = /^depends_on\s*:\s*(.*)$/.exec(lines[i] as string);
    if (!key) continue;
    const rest = (key[1] ?? "").replace(/\s+#.*$/, "").trim();
    if (rest.startsWith("[")) {
      const inner = rest.slice(1, rest.lastIndexOf("]") === -1 ? undefined : rest.lastIndexOf("]"));
      dependsOn.push(...inner.split(",").map(unquote).filter((name) => name !== ""));
    } else if (rest !== "") {
      dependsOn.push(unquote(rest));
    } else {
      for (let j = i + 1; j < lines.length; j++) {
        const item = /^\s*-\s*(.+?)\s*(?:#.*)?$/.exec(lines[j] as string);
        if (!item) break;
        dependsOn.push(unquote(item[1] as string));
      }
    }
  }
  return { body: normalized.slice(match[0].length), dependsOn: [...new Set(dependsOn)] };
}
