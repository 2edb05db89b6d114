// The README's first example, typed as written into a fresh project with dist/ve first on the
// PATH: every command's output must be what the README shows, so the front door never shows a
// message, a field or an error the program no longer prints. Times and ages vary from run to
// run and are compared by shape; `...` in the README stands for any lines; runs of spaces are
// compared as one (column widths follow the values).
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { VE, run, useProjects } from "../e2e/harness.ts";

const README = readFileSync(resolve(import.meta.dir, "../../README.md"), "utf8");
const hasJq = Bun.which("jq") !== null;
const { project } = useProjects("ve-readme");

interface Step {
  command: string;
  expected: string[];
}

/** The first ```console block of "## An example", as commands and the lines each prints. */
function exampleSteps(): Step[] {
  const section = README.slice(README.indexOf("## An example"));
  const block = /```console\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error("README.md has no console block under ## An example");
  const steps: Step[] = [];
  for (const line of block.trimEnd().split("\n")) {
    if (line.startsWith("$ ")) steps.push({ command: line.slice(2), expected: [] });
    else steps.at(-1)?.expected.push(line);
  }
  return steps;
}

function normalized(line: string): string {
  return line
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<time>")
    .replace(/\b\d+[smhd]$/, "<age>")
    .replace(/\(pid \d+\)/g, "(pid <pid>)")
    .replace(/\s+/g, " ")
    .trim();
}

/** Whether `actual` is `expected` line by line, `...` matching any run of lines. */
function matches(expected: string[], actual: string[]): boolean {
  const [first, ...rest] = expected;
  if (first === undefined) return actual.length === 0;
  if (first.trim() === "...") return actual.some((_, i) => matches(rest, actual.slice(i))) || matches(rest, []);
  return actual.length > 0 && normalized(first) === normalized(actual[0] as string) && matches(rest, actual.slice(1));
}

describe("README example", () => {
  test("every command prints what the README shows", async () => {
    const dir = project();
    const bin = join(dir, "bin");
    mkdirSync(bin);
    symlinkSync(VE, join(bin, "ve"));
    const env = { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, COLUMNS: undefined };
    const start = await run([VE, "orch", "start"], { cwd: dir, env });
    expect(start.code).toBe(0);
    const problems: string[] = [];
    for (const step of exampleSteps()) {
      if (step.command.includes("| jq") && !hasJq) {
        console.log(`skipped (jq is not installed): ${step.command}`);
        continue;
      }
      // As a person's shell runs it: the pipe and the quotes included, stderr in order with stdout.
      const result = await run(["/bin/sh", "-c", `${step.command} 2>&1`], { cwd: dir, env });
      const actual = result.stdout.trimEnd().split("\n");
      if (!matches(step.expected, actual)) {
        problems.push(`$ ${step.command}\n  README:\n    ${step.expected.join("\n    ")}\n  printed:\n    ${actual.join("\n    ")}`);
      }
    }
    expect(problems.join("\n")).toBe("");
  });
});
