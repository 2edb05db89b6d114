// Which landing merge on a base is a unit's: each merge commit ve makes carries a
// `Ve-Chunk: <chunk>` trailer, so a landing that a crash interrupted after the merge was
// published (the branch already deleted, DONE not yet written) is recognised afterwards
// instead of being landed again from a branch that is gone. A project nested in a subdirectory
// of its repository adds `Ve-Project: <dir>`, so two projects on one repository landing units of
// the same name on one base never take each other's merge for their own.
import { runGit } from "./git.ts";

export const CHUNK_TRAILER = "Ve-Chunk";
export const PROJECT_TRAILER = "Ve-Project";

/** `projectPrefix` as git's `rev-parse --show-prefix` prints it ("" at the top level); the trailer holds it without its last `/`. */
function projectOf(projectPrefix: string): string {
  return projectPrefix.replace(/\/+$/, "");
}

/** The landing commit's message: a subject people read, and the trailers ve finds it by. */
export function landingMessage(projectPrefix: string, chunk: string): string {
  const project = projectOf(projectPrefix);
  return `Land ${chunk} (ve)\n\n${CHUNK_TRAILER}: ${chunk}${project === "" ? "" : `\n${PROJECT_TRAILER}: ${project}`}`;
}

/**
 * The commits of `git log --format=%H%x09<chunk trailers>%x1f<project trailers>%x00` whose
 * trailers name `chunk` of the project at `projectPrefix` (none for the top level), newest first.
 */
export function mergesOfChunk(logOutput: string, chunk: string, projectPrefix = ""): string[] {
  const project = projectOf(projectPrefix);
  const found: string[] = [];
  for (const record of logOutput.split("\0")) {
    const [chunkPart = "", projectPart = ""] = record.split("\x1f");
    const [commit, ...values] = chunkPart.trim().split("\t");
    const projects = projectPart.split("\t").map((v) => v.trim()).filter((v) => v !== "");
    const ours = project === "" ? projects.length === 0 : projects.includes(project);
    if (commit && /^[0-9a-f]{40,64}$/.test(commit) && ours && values.some((v) => v.trim() === chunk)) found.push(commit);
  }
  return found;
}

/**
 * The newest merge on `base` that lands the project's `chunk`, made at or after `sinceIso` (the unit's
 * creation: an earlier unit of the same name landed merges of its own), or undefined.
 */
export async function landedMergeOf(repo: string, base: string, projectPrefix: string, chunk: string, sinceIso: string): Promise<string | undefined> {
  const sinceS = Math.floor(Date.parse(sinceIso) / 1000);
  const args = [
    "log",
    "--merges",
    `--since=@${sinceS}`,
    `--grep=^${CHUNK_TRAILER}: `,
    `--format=%H%x09%(trailers:key=${CHUNK_TRAILER},valueonly,separator=%x09)%x1f%(trailers:key=${PROJECT_TRAILER},valueonly,separator=%x09)%x00`,
    `refs/heads/${base}`,
    "--",
  ];
  const result = await runGit(args, { cwd: repo });
  if (result.code !== 0) return undefined;
  return mergesOfChunk(result.stdout, chunk, projectPrefix)[0];
}
