// The base a landing published, watched for moves backwards: an agent that rewinds the base
// (`git branch -f main HEAD~1`, `update-ref`, `reset --hard` through `git -C`) drops landed
// units from it while they stay DONE. A person's own commits on top (a fast-forward of the
// published tip) are never a finding.
import { CHUNK_TRAILER } from "../git/landed.ts";
import { resolveCommit, runGit } from "../git/git.ts";
import type { BaseTip } from "../state/engine.ts";

export interface BaseRewind {
  base: string;
  /** The tip the engine last published. */
  published: string;
  /** Where the base is now; null when the branch is gone. */
  now: string | null;
  /** The units whose landing merges are on the published tip and no longer on the base, newest first. */
  lost: string[];
}

/** A run, as far as naming who ran while the base moved needs it. */
export interface RunSeen {
  id: string;
  chunk: string;
  started_at: string;
  ended_at: string | null;
}

/** The chunks named by `git log --format=%(trailers:key=Ve-Chunk,valueonly)` output, once each, in order. */
export function chunksOfLog(output: string): string[] {
  const seen: string[] = [];
  for (const line of output.split("\n")) {
    const chunk = line.trim();
    if (chunk !== "" && !seen.includes(chunk)) seen.push(chunk);
  }
  return seen;
}

/** The runs that were open at some moment since `sinceIso`: the ones that could have moved the base. */
export function runsSince(runs: readonly RunSeen[], sinceIso: string): RunSeen[] {
  const since = Date.parse(sinceIso);
  return runs.filter((r) => r.ended_at === null || Date.parse(r.ended_at) >= since);
}

/** The attention reason for a rewound base: what moved, what it dropped, who ran, and the two ways on. */
export function baseRewoundReason(rewind: BaseRewind, runs: readonly RunSeen[], chunk: string, landing: boolean): string {
  const short = (commit: string) => commit.slice(0, 12);
  const now = rewind.now === null ? "is gone" : `is now at ${short(rewind.now)}, not a descendant of it`;
  const lost = rewind.lost.length > 0 ? ` The landings of ${rewind.lost.map((c) => `'${c}'`).join(", ")} are no longer on ${rewind.base}, though they stay DONE.` : "";
  const ran = runs.length > 0 ? ` Runs open since it was published: ${runs.map((r) => `'${r.chunk}' (run ${r.id})`).join(", ")}.` : "";
  const held = landing ? `Nothing of '${chunk}' was landed.` : `The work of '${chunk}' is kept on its branch; nothing was landed.`;
  return (
    `${rewind.base} was moved backwards: ve last published it at ${short(rewind.published)}, and it ${now}.${lost}${ran} ${held} ` +
    `To restore it: \`git update-ref refs/heads/${rewind.base} ${rewind.published}\`, then \`ve orch retry ${chunk}\`. ` +
    `To keep ${rewind.base} as it is now: \`ve orch retry ${chunk} --accept-base\`.`
  );
}

/**
 * Undefined while the base descends from the tip last published (or none was published yet);
 * else what moved. One `merge-base --is-ancestor`, plus a `log` only when it moved.
 */
export async function findBaseRewind(repo: string, published: BaseTip | undefined): Promise<BaseRewind | undefined> {
  if (published === undefined) return undefined;
  const { base, tip } = published;
  const now = (await resolveCommit(`refs/heads/${base}`, repo)) ?? null;
  if (now === tip) return undefined;
  if (now !== null) {
    const check = await runGit(["merge-base", "--is-ancestor", tip, now], { cwd: repo });
    if (check.code === 0) return undefined;
    // 1: not an ancestor. Anything else (the published commit no longer exists) is a move too.
  }
  const range = now === null ? [tip] : [tip, `^${now}`];
  const log = await runGit(["log", `--format=%(trailers:key=${CHUNK_TRAILER},valueonly)`, ...range, "--"], { cwd: repo });
  return { base, published: tip, now, lost: log.code === 0 ? chunksOfLog(log.stdout) : [] };
}
