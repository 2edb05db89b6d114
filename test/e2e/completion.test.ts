// `ve completion bash|zsh|fish`: scripts generated from the command table, run in the real
// shells. bash: the completion function called with COMP_WORDS as bash would; zsh: the function
// with `words`/`CURRENT` set and compadd recording what it was given; fish: `complete -C`.
// Chunk names come live from the project's daemon.
import { beforeAll, describe, expect, test } from "bun:test";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { VE, run, useProjects } from "./harness.ts";
import { useTempDirs } from "../helpers/temp.ts";

const { project, ve } = useProjects("ve-completion");
const tempDir = useTempDirs("ve-completion-bin");
const shells = { bash: Bun.which("bash"), zsh: Bun.which("zsh"), fish: Bun.which("fish") };
for (const [shell, path] of Object.entries(shells)) {
  if (!path) console.warn(`completion tests: ${shell} is not installed here; its script is only checked for generation`);
}

let bin = "";
let scripts: Record<string, string> = {};
beforeAll(async () => {
  // `ve` on PATH, as a user has it: the scripts call it by that name for chunk names.
  bin = tempDir();
  symlinkSync(VE, join(bin, "ve"));
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = await ve(null, ["completion", shell]);
    expect({ shell, code: r.code, stderr: r.stderr }).toEqual({ shell, code: 0, stderr: "" });
    const file = join(bin, `ve.${shell}`);
    await Bun.write(file, r.stdout);
    scripts[shell] = file;
  }
});

/** A project with units alpha and beta (the harness stops every daemon after each test). */
async function projectWithUnits(): Promise<string> {
  const dir = project();
  expect((await ve(dir, ["orch", "start"])).code).toBe(0);
  for (const chunk of ["alpha", "beta"]) expect((await ve(dir, ["orch", "work-unit", "create", chunk])).code).toBe(0);
  return dir;
}

const env = () => ({ PATH: `${bin}:${process.env.PATH}`, COLUMNS: undefined, HOME: bin, XDG_CONFIG_HOME: bin, XDG_DATA_HOME: bin });

/** What each shell offers after `line` (the word under the cursor is the text after the last space). */
const complete: Record<"bash" | "zsh" | "fish", (line: string) => Promise<string[]>> = {
  async bash(line) {
    const words = line.split(" ");
    const script = `source '${scripts.bash}'
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_ve; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return lines(await run(["bash", "--norc", "--noprofile", "-c", script], { env: env() }));
  },
  async zsh(line) {
    const words = line.split(" ");
    const script = `compdef() { :; }; compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }; _files() { print -- "<files>"; }
source '${scripts.zsh}'
words=(${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${words.length}
_ve`;
    const all = lines(await run(["zsh", "-f", "-c", script], { env: env() }));
    const current = words.at(-1) ?? "";
    // compadd filters by the typed prefix itself; the stub does not.
    return all.filter((w) => w.startsWith(current));
  },
  async fish(line) {
    const r = await run(["fish", "--no-config", "-c", `source '${scripts.fish}'; complete -C '${line}'`], { env: env() });
    return lines(r).map((l) => l.split("\t")[0] as string);
  },
};

function lines(r: { code: number; stdout: string; stderr: string }): string[] {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return r.stdout.split("\n").filter((l) => l !== "");
}

const cases = (dir: string): [string, string[], string[]][] => [
  ["ve ", ["orch", "completion", "help"], ["__daemon"]],
  ["ve or", ["orch"], ["completion"]],
  ["ve orch ", ["start", "stop", "status", "ps", "logs", "work-unit", "help"], []],
  ["ve orch work-unit ", ["create", "status", "show", "update", "list", "delete"], ["start"]],
  ["ve orch ps --st", ["--status"], ["--phase"]],
  ["ve orch ps --status ", ["READY", "RUNNING", "BLOCKED", "NEEDS_ATTENTION", "DONE"], ["GOAL"]],
  ["ve orch work-unit update x --phase ", ["GOAL", "PLAN", "IMPLEMENT", "COMPLETE"], ["READY"]],
  [`ve orch work-unit show --project-dir ${dir} `, ["alpha", "beta"], []],
  [`ve orch work-unit status --project-dir ${dir} alpha `, ["READY", "DONE"], []],
  [`ve orch work-unit create gamma --project-dir ${dir} --blocked-by `, ["alpha", "beta"], []],
  ["ve completion ", ["bash", "zsh", "fish"], []],
];

describe("completion scripts", () => {
  for (const shell of ["bash", "zsh", "fish"] as const) {
    test.skipIf(!shells[shell])(`${shell}: commands, options, enum values and live chunk names`, async () => {
      const dir = await projectWithUnits();
      for (const [line, offered, notOffered] of cases(dir)) {
        const got = await complete[shell](line);
        for (const word of offered) expect({ shell, line, has: word, ok: got.includes(word) }).toEqual({ shell, line, has: word, ok: true });
        for (const word of notOffered) expect({ shell, line, not: word, ok: !got.includes(word) }).toEqual({ shell, line, not: word, ok: true });
      }
    });
  }

  test("an unknown shell is a usage error naming the choices", async () => {
    const r = await ve(null, ["completion", "tcsh"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bash, zsh, fish");
  });

  test("every visible command is in every script, the hidden daemon entry in none", async () => {
    for (const shell of ["bash", "zsh", "fish"]) {
      const text = await Bun.file(scripts[shell] as string).text();
      for (const word of ["orch", "work-unit", "blocked-by", "expected-updated-at", "NEEDS_ATTENTION", "project-dir"]) {
        expect({ shell, word, ok: text.includes(word) }).toEqual({ shell, word, ok: true });
      }
      expect(text).not.toContain("__daemon");
    }
  });
});
