// Which landing merge on a base is a unit's: each merge commit ve makes carries a
// `Ve-Chunk: <chunk>` trailer, so a landing that a crash interrupted after the merge was
// published (the branch already deleted, DONE not yet written) is recognised afterwards
// instead of being landed again from a branch that is gone.
import { runGit } from "./git.ts";

export const CHUNK_TRAILER = "Ve-Chunk";

/** The landing commit's message: a subject people read, and the trailer ve finds it by. */
export function landingMessage(chunk: string): string {
  return `Land ${chunk} (ve)\n\n${CHUNK_TRAILER}: ${chunk}`;
}

/** The commits of `git log --format=%H%x09%(trailers...)%x00` whose trailer names `chunk`, newest first. */
export function mergesOfChunk(logOutput: string, chunk: string): string[] {
  const found: string[] = [];
  for (const record of logOutput.split("\0")) {
    const [commit, ...values] = record.trim().split("\t");
    if (commit && /^[0-9a-f]{40,64}$/.test(commit) && values.some((v) => v.trim() === chunk)) found.push(commit);
  }
  return found;
}

/**
 * The newest merge on `base` that lands `chunk`, made at or after `sinceIso` (the unit's
 * creation: an earlier unit of the same name landed merges of its own), or undefined.
 */
export async function landedMergeOf(repo: string, base: string, chunk: string, sinceIso: string): Promise<string | undefined> {
  const sinceS = Math.floor(Date.parse(sinceIso) / 1000);
  const args = [
    "log",
    "--merges",
    `--since=@${sinceS}`,
    `--grep=^${CHUNK_TRAILER}: `,
    `--format=%H%x09%(trailers:key=${CHUNK_TRAILER},valueonly,separator=%x09)%x00`,
    `refs/heads/${base}`,
    "--",
  ];
  const result = await runGit(args, { cwd: repo });
  if (result.code !== 0) return undefined;
  return mergesOfChunk(result.stdout, chunk)[0];
}
