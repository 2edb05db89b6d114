import { defineCommand } from "citty";
import { Client } from "../../../client/client.ts";
import type { BackendCheck, BackendInfo, CheckStep } from "../../../models/index.ts";
import { DEFAULT_CHECK_TIMEOUT_S, MAX_CHECK_TIMEOUT_S } from "../../../models/backends.ts";
import { commonArgs, integerOption } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { EXIT_FAILED, EXIT_OK } from "../../exit.ts";
import { logger, paint, table } from "../../output.ts";

/** Beyond the run's own bound: reading the version, making the scratch repository, the kill ladder. */
const CHECK_ANSWER_MARGIN_MS = 30_000;

const MARKS: Record<string, [string, "green" | "red" | "gray"]> = { true: ["ok", "green"], false: ["FAILED", "red"], null: ["-", "gray"] };

function stepLine(step: CheckStep): string[] {
  const [mark, color] = MARKS[String(step.ok)] as [string, "green" | "red" | "gray"];
  const lines = [`  ${paint("stdout", color, mark.padEnd(6))} ${step.step.padEnd(10)} ${step.summary}`];
  if (step.hint) lines.push(`  ${" ".repeat(6)} ${" ".repeat(10)} -> ${step.hint}`);
  return lines;
}

function spent(report: BackendCheck): string | null {
  const parts: string[] = [];
  if (report.duration_ms !== null) parts.push(`${(report.duration_ms / 1000).toFixed(1)} s`);
  if (report.turns !== null) parts.push(`${report.turns} turn${report.turns === 1 ? "" : "s"}`);
  if (report.cost_usd !== null) parts.push(`$${report.cost_usd.toFixed(4)}`);
  if (report.input_tokens !== null || report.output_tokens !== null) parts.push(`${report.input_tokens ?? 0} in + ${report.output_tokens ?? 0} out tokens`);
  return parts.length > 0 ? parts.join(", ") : null;
}

export function checkReport(report: BackendCheck): string {
  const lines = [`Checking the ${report.backend} backend:`];
  for (const step of report.steps) lines.push(...stepLine(step));
  const cost = spent(report);
  if (cost) lines.push(`  spent: ${cost}`);
  if (report.reply !== null && report.ok) lines.push(`  reply: ${report.reply.split("\n")[0]}`);
  if (!report.ok && report.output.length > 0) {
    lines.push("  its last lines of output:");
    for (const line of report.output) lines.push(`    ${line}`);
  }
  lines.push(report.ok ? `The ${report.backend} backend works.` : `The ${report.backend} backend does not work yet; see the steps above.`);
  return lines.join("\n");
}

function backendTable(backends: readonly BackendInfo[]): string {
  if (backends.length === 0) return "No backends.";
  return table(
    ["BACKEND", "DEFAULT", "EXECUTABLE", "VERSION", "ARGS", "PROBLEM"],
    backends.map((b) => [
      b.name,
      b.default ? "yes" : "",
      b.executable ?? "-",
      b.version ? `${b.version}${b.min_version ? ` (>= ${b.min_version})` : ""}` : b.min_version ? `? (>= ${b.min_version})` : "-",
      b.args.length > 0 ? JSON.stringify(b.args) : "-",
      b.problem ?? "-",
    ]),
  );
}

const check = defineCommand({
  meta: {
    name: "check",
    description:
      "Run a one-line prompt through a backend in the daemon (its environment and settings) in a scratch git repository, and say step by step what works; exits 1 when it does not",
  },
  args: {
    name: { type: "positional", required: true, valueHint: "backend", description: "The backend to check (`ve orch backend list` shows them)" },
    timeout: {
      type: "string",
      valueHint: "seconds",
      description: `How long the agent may take to answer (default: ${DEFAULT_CHECK_TIMEOUT_S}, at most ${MAX_CHECK_TIMEOUT_S})`,
    },
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const seconds = integerOption("timeout", args.timeout, 1, MAX_CHECK_TIMEOUT_S);
    const client = new Client(ctx.paths, {
      timeoutMs: (seconds ?? DEFAULT_CHECK_TIMEOUT_S) * 1000 + CHECK_ANSWER_MARGIN_MS,
      onWarning: (message) => logger().warn(message),
    });
    const reply = await client.checkBackend(args.name, seconds);
    await emit(ctx, reply, checkReport);
    return reply.data.ok ? EXIT_OK : EXIT_FAILED;
  },
});

const list = defineCommand({
  meta: { name: "list", description: "The backends, each with the program the daemon would run, its version, arguments and what is wrong with it" },
  args: { ...commonArgs },
  async run({ args }) {
    const ctx = await commandContext(args);
    await emit(ctx, await ctx.client.backends(), (doc) => backendTable(doc.backends));
  },
});

export default defineCommand({
  meta: { name: "backend", description: "The agent backends: list them, check that one works" },
  subCommands: { list, check },
});
