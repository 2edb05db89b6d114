import { defineCommand } from "citty";
import type { WorktreeInfo } from "../../../models/index.ts";
import { commonArgs } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { table } from "../../output.ts";

function size(bytes: number | null): string {
  if (bytes === null) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function worktreeTable(rows: readonly WorktreeInfo[]): string {
  if (rows.length === 0) return "No engine worktrees.";
  return table(
    ["UNIT", "STATE", "BRANCH", "SIZE", "PATH"],
    rows.map((w) => [w.chunk ?? "-", w.state + (w.locked ? " (locked)" : ""), w.branch ?? "-", size(w.size_bytes), w.path]),
  );
}

const list = defineCommand({
  meta: { name: "list", description: "The engine's worktrees: each unit's (active, or missing and recreated at its next run) and those no unit owns" },
  args: { ...commonArgs },
  async run({ args }) {
    const ctx = await commandContext(args);
    await emit(ctx, await ctx.client.worktrees(), (doc) => worktreeTable(doc.worktrees));
  },
});

const prune = defineCommand({
  meta: { name: "prune", description: "Remove worktrees no unit owns (shows what it would remove unless --apply); branches are kept" },
  args: {
    apply: { type: "boolean", description: "Remove them (without it: only show what would be removed)" },
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    await emit(ctx, await ctx.client.pruneWorktrees(args.apply === true), (doc) => {
      if (doc.worktrees.length === 0 && doc.refused.length === 0) return "No worktree without a unit.";
      const lines = doc.worktrees.map((w) => `${doc.applied ? "removed" : "would remove"} ${w.path} (${w.branch ?? "detached"})`);
      for (const r of doc.refused) lines.push(`kept ${r.path}: ${r.reason}`);
      if (!doc.applied && doc.worktrees.length > 0) lines.push("Run again with --apply to remove them.");
      return lines.join("\n");
    });
  },
});

export default defineCommand({
  meta: { name: "worktree", description: "The git worktrees the engine keeps for its units" },
  subCommands: { list, prune },
});
