// `ve orch inject`: making units the scheduler runs. Each needs a git repository with a commit
// to branch from; its phase is read from its documents on the base branch unless given, and
// its GOAL.md's `depends_on` becomes what it waits on. A batch is created in dependency order
// in one transaction: all of it, or (a cycle, a bad name, a taken branch) none of it.
import { type Phase, isValidChunkName } from "../domain.ts";
import { VeError } from "../errors.ts";
import { resolveCommit, runGit } from "../git/git.ts";
import { branchExists } from "../git/worktrees.ts";
import type { WorkUnit } from "../models/index.ts";
import type { EngineStore } from "../state/engine.ts";
import { BACKEND_NAMES, configValue } from "./config.ts";
import { detectPhase, readChunkDocuments, stripFrontmatter } from "./documents.ts";
import { projectPrefixOf, unitBranch } from "./worktrees.ts";

export interface InjectRequest {
  chunks: string[];
  goal?: string | undefined;
  phase?: Phase | undefined;
  priority?: number | undefined;
  blocked_by?: string[] | undefined;
  base?: string | undefined;
  backend?: string | undefined;
  verify?: string | undefined;
}

/** The branch checked out at the project root, which new units land on unless told otherwise. */
export async function currentBranch(repo: string): Promise<string | undefined> {
  const result = await runGit(["symbolic-ref", "--quiet", "--short", "HEAD"], { cwd: repo });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

async function requireRepository(repo: string): Promise<void> {
  const inside = await runGit(["rev-parse", "--is-inside-work-tree"], { cwd: repo });
  if (inside.code !== 0 || inside.stdout.trim() !== "true") {
    throw new VeError(
      "git_required",
      `${repo} is not a git repository; scheduled units run in git worktrees. Run \`git init\` and commit once, or track units without running them with \`ve orch work-unit create\`.`,
      { project_dir: repo },
    );
  }
  if ((await resolveCommit("HEAD", repo)) === undefined) {
    throw new VeError(
      "git_required",
      `The repository at ${repo} has no commit yet; agents branch from one. Commit once (\`git commit --allow-empty -m init\`), then inject again.`,
      { project_dir: repo },
    );
  }
}

/** Dependencies first; a cycle inside the batch refuses it whole. */
function dependencyOrder(chunks: readonly string[], dependsOn: ReadonlyMap<string, readonly string[]>): string[] {
  const inBatch = new Set(chunks);
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (chunk: string, path: string[]) => {
    if (state.get(chunk) === "done") return;
    if (state.get(chunk) === "visiting") {
      const loop = [...path.slice(path.indexOf(chunk)), chunk];
      throw new VeError("dependency_cycle", `These chunks depend on each other in a cycle (${loop.join(" -> ")}); nothing was injected. Remove one of the dependencies.`, {
        cycle: loop,
      });
    }
    state.set(chunk, "visiting");
    for (const dep of dependsOn.get(chunk) ?? []) if (inBatch.has(dep)) visit(dep, [...path, chunk]);
    state.set(chunk, "done");
    order.push(chunk);
  };
  for (const chunk of chunks) visit(chunk, []);
  return order;
}

/**
 * Reads what the units need from git (asynchronously) and returns the write that creates
 * them, for the caller to run inside its transaction (so its answer is built in it too).
 */
export async function planInject(repo: string, state: EngineStore, request: InjectRequest): Promise<() => WorkUnit[]> {
  if (request.chunks.length === 0) throw new VeError("validation_failed", "Name at least one chunk to inject.", { field: "chunks" });
  const duplicate = request.chunks.find((c, i) => request.chunks.indexOf(c) !== i);
  if (duplicate) throw new VeError("validation_failed", `'${duplicate}' is named twice; name each chunk once.`, { field: "chunks" });
  for (const chunk of request.chunks) {
    if (!isValidChunkName(chunk)) {
      throw new VeError("validation_failed", `'${chunk}' is not a valid chunk name (it becomes a directory and a git branch).`, { field: "chunks" });
    }
  }
  const backend = request.backend ?? configValue<string>(state.config(), "backend");
  if (!(BACKEND_NAMES as readonly string[]).includes(backend)) {
    throw new VeError("validation_failed", `There is no backend '${backend}'; choose one of ${BACKEND_NAMES.join(", ")}.`, { field: "backend" });
  }
  await requireRepository(repo);
  const base = request.base ?? (await currentBranch(repo));
  if (base === undefined) {
    throw new VeError("validation_failed", `The checkout at ${repo} is on no branch (detached HEAD); name the branch units land on with --base.`, {
      field: "base",
    });
  }
  if ((await resolveCommit(`refs/heads/${base}`, repo)) === undefined) {
    throw new VeError("validation_failed", `There is no branch '${base}' in ${repo}; name an existing branch with --base.`, { field: "base", base });
  }

  const plans = new Map<string, { phase: Phase; dependsOn: string[]; goal: string | null }>();
  const projectPrefix = await projectPrefixOf(repo);
  for (const chunk of request.chunks) {
    const branch = unitBranch(projectPrefix, chunk);
    if (await branchExists(repo, branch)) {
      throw new VeError(
        "already_exists",
        `The branch ${branch} exists already (left by an earlier unit?); nothing was injected. Land or delete it (\`git branch -d ${branch}\`), or choose another name.`,
        { chunk, branch },
      );
    }
    const docs = await readChunkDocuments(repo, base, chunk);
    const declared = docs.goal === null ? [] : stripFrontmatter(docs.goal).dependsOn;
    const invalid = declared.find((name) => !isValidChunkName(name));
    if (invalid !== undefined) {
      throw new VeError("validation_failed", `docs/chunks/${chunk}/GOAL.md on the branch ${base} names '${invalid}' in depends_on, which is not a valid chunk name; fix the frontmatter.`, {
        field: "depends_on",
        chunk,
      });
    }
    const dependsOn = [...new Set([...declared, ...(request.blocked_by ?? [])])];
    const phase = request.phase ?? (request.goal !== undefined && docs.goal === null ? "GOAL" : detectPhase(docs));
    plans.set(chunk, { phase, dependsOn, goal: request.goal ?? null });
  }
  const order = dependencyOrder(request.chunks, new Map([...plans].map(([c, p]) => [c, p.dependsOn])));
  return () => state.inject(
    order.map((chunk) => {
      const plan = plans.get(chunk) as { phase: Phase; dependsOn: string[]; goal: string | null };
      return { chunk, phase: plan.phase, blocked_by: plan.dependsOn, goal: plan.goal };
    }),
    { priority: request.priority ?? 0, base_branch: base, backend, verify: request.verify ?? null },
  );
}

export async function inject(repo: string, state: EngineStore, request: InjectRequest): Promise<WorkUnit[]> {
  return (await planInject(repo, state, request))();
}
