// The README and docs/ as a cloner gets them: every relative link leads to a file of the
// repository (not one outside it, not one git ignores), every #anchor to a heading, and the
// quick start is still the two commands that work on a fresh clone.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const PAGES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`), "bench/README.md"];

/** GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces as dashes. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/**
 * Pages whose in-page anchors are not checked: docs/api.md is generated from the OpenAPI
 * document by its own generator (and tested with it).
 */
const ANCHORS_UNCHECKED = new Set(["docs/api.md"]);

function headings(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string)));
}

function links(file: string): string[] {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string).filter((l) => !/^[a-z]+:/.test(l));
}

function ignoredByGit(path: string): boolean {
  const result = Bun.spawnSync(["git", "check-ignore", "-q", path], { cwd: ROOT, stdout: "ignore", stderr: "ignore" });
  return result.exitCode === 0;
}

describe("documentation links", () => {
  for (const page of PAGES) {
    test(`${page}: every relative link resolves inside the repository`, () => {
      const problems: string[] = [];
      for (const link of links(join(ROOT, page))) {
        const [path = "", anchor] = link.split("#");
        const target = path === "" ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), path);
        const shown = relative(ROOT, target);
        if (shown.startsWith("..")) problems.push(`${link}: outside the repository`);
        else if (!existsSync(target)) problems.push(`${link}: ${shown} does not exist`);
        else if (ignoredByGit(shown)) problems.push(`${link}: ${shown} is git-ignored, a clone does not have it`);
        else if (anchor && target.endsWith(".md") && !ANCHORS_UNCHECKED.has(shown) && !headings(target).has(anchor)) {
          problems.push(`${link}: no heading #${anchor}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }

  test("every file of the repository the pages name (`src/...`, `test/...`) exists", () => {
    const missing: string[] = [];
    for (const page of PAGES) {
      const text = readFileSync(join(ROOT, page), "utf8");
      // Written by a run, not kept in the repository: bench/results/ (npm run bench).
      const named = [...text.matchAll(/(?<![\w/.-])((?:src|test|bench|sql|scripts)\/[\w./-]*\w)/g)].map((m) => m[1] as string);
      for (const path of new Set(named)) {
        if (!path.startsWith("bench/results/") && !existsSync(join(ROOT, path))) missing.push(`${page}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test("the README's quick start is exactly the two commands that work on a fresh clone", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const quickStart = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("\n## ", readme.indexOf("## Quick start") + 1));
    const block = /```sh\n([\s\S]*?)```/.exec(quickStart)?.[1] ?? "";
    const commands = block.split("\n").filter((l) => l.trim() !== "").map((l) => l.replace(/\s+#.*$/, ""));
    expect(commands).toEqual(["npm ci && npm start", "npm ci && npm test"]);
  });

  test("the README is a front door: short, and links into docs/", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme.split("\n").length).toBeLessThan(120);
    for (const page of ["docs/concepts.md", "docs/cli.md", "docs/api.md", "docs/files.md", "docs/architecture.md", "docs/performance.md"]) {
      expect(readme).toContain(`(${page})`);
    }
  });
});
