// Every `ve` command line in the code blocks of the README and docs/ is one dist/ve accepts:
// run against a project with no daemon, a command that parses ends with "no daemon" (3) or
// its own result, never with a usage error (2). A renamed option or command fails here, not
// for the reader who types the example. Synopsis lines (`[--opt]`) and placeholders (CHUNK,
// NAME, ...) are not commands and are left out; `ve orch start`/`restart` would start a daemon.
import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { VE, run } from "../e2e/harness.ts";
import { useTempDirs } from "../helpers/temp.ts";

const ROOT = resolve(import.meta.dir, "../..");
const PAGES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const PLACEHOLDER = /\b(CHUNK|NAME|TEXT|QUESTION|SUMMARY|KEY|VALUE|MODE|OLD|NEW|NEW_STATUS|ID|PATH|BRANCH|FILE|DIR|K|N|S|P|T|C|V)\b/;
const NOT_RUN = /^ve (orch (start|restart)|mcp)\b/;
const tempDir = useTempDirs("ve-doc-commands");

/** `ve ...` lines of the fenced blocks, as a shell would get them (prompt and comment cut). */
function commands(page: string): string[] {
  const text = readFileSync(join(ROOT, page), "utf8");
  const found: string[] = [];
  for (const block of text.matchAll(/```\w*\n([\s\S]*?)```/g)) {
    for (const raw of (block[1] as string).split("\n")) {
      let line = raw.replace(/^\$ /, "").replace(/\s+# .*$/, "").trim();
      const pipe = line.lastIndexOf("| ve ");
      if (pipe >= 0) line = line.slice(pipe + 2);
      // What ve's output is piped into is not under test (and its exit code would hide ve's).
      line = line.split(" | ")[0] as string;
      if (!/^ve (orch|agent|completion|help|--version)\b/.test(line)) continue;
      // A synopsis: optional parts in brackets, or a description column after the command.
      const synopsis = (line.includes("[") && !line.includes("'[")) || /\S {3,}\S/.test(line.replace(/'[^']*'|"[^"]*"/g, ""));
      if (synopsis || PLACEHOLDER.test(line.replace(/'[^']*'|"[^"]*"/g, "")) || NOT_RUN.test(line)) continue;
      found.push(line);
    }
  }
  return found;
}

describe("commands in the documentation", () => {
  for (const page of PAGES) {
    const lines = commands(page);
    if (lines.length === 0) continue;
    test(`${page}: every ve command line parses`, async () => {
      const project = tempDir();
      const bin = tempDir();
      symlinkSync(VE, join(bin, "ve"));
      const refused: string[] = [];
      for (const line of lines) {
        // An answer read from stdin (`ve orch answer CHUNK -`) gets one, so only the parse is tested.
        const result = await run(["/bin/sh", "-c", `echo answer | ${line}`], {
          cwd: project,
          env: { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, VE_PROJECT_DIR: project },
        });
        if (result.code === 2) refused.push(`${line}\n    ${result.stderr.trim()}`);
      }
      expect(refused).toEqual([]);
    });
  }
});
