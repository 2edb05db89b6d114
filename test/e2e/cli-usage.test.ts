// The command line itself: --help at every level, --version, and usage errors (exit 2, a
// message on stderr that names the problem, nothing on stdout).
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { VE, run, useProjects } from "./harness.ts";
import { hasUtilLinuxScript, onPty } from "../helpers/processes.ts";

const { project, ve } = useProjects("ve-usage");
const hasScript = hasUtilLinuxScript("cli-usage terminal tests");

const COMMANDS: string[][] = [
  [],
  ["completion"],
  ["orch"],
  ["orch", "start"],
  ["orch", "stop"],
  ["orch", "status"],
  ["orch", "ps"],
  ["orch", "logs"],
  ["orch", "work-unit"],
  ["orch", "work-unit", "create"],
  ["orch", "work-unit", "status"],
  ["orch", "work-unit", "show"],
  ["orch", "work-unit", "update"],
  ["orch", "work-unit", "list"],
  ["orch", "work-unit", "delete"],
];

describe("--help", () => {
  test("works at every level: exit 0, usage on stdout, nothing on stderr, no daemon needed", async () => {
    const dir = project();
    const results = await Promise.all(
      COMMANDS.flatMap((command) => [
        ve(dir, [...command, "--help"]).then((r) => ({ command, flag: "--help", r })),
        ve(dir, [...command, "-h"]).then((r) => ({ command, flag: "-h", r })),
      ]),
    );
    for (const { command, flag, r } of results) {
      const label = `ve ${[...command, flag].join(" ")}`;
      expect({ label, code: r.code, stderr: r.stderr }).toEqual({ label, code: 0, stderr: "" });
      expect(r.stdout).toContain("USAGE");
      expect(r.stdout).toContain(["ve", ...command].join(" "));
    }
    const byName = new Map(results.filter((x) => x.flag === "--help").map((x) => [x.command.join(" "), x.r.stdout]));
    // Each level lists what is below it, and each command its options.
    for (const sub of ["start", "stop", "status", "ps", "logs", "work-unit"]) expect(byName.get("orch")).toContain(sub);
    for (const sub of ["create", "status", "show", "update", "list", "delete"]) {
      expect(byName.get("orch work-unit")).toContain(sub);
    }
    expect(byName.get("orch start")).toContain("--tcp");
    expect(byName.get("orch start")).toContain("--foreground");
    expect(byName.get("orch stop")).toContain("--timeout");
    expect(byName.get("orch logs")).toContain("--follow");
    expect(byName.get("orch ps")).toContain("--status");
    expect(byName.get("orch work-unit create")).toContain("--blocked-by");
    for (const [name, text] of byName) {
      if (name.startsWith("orch ") && name !== "orch work-unit") {
        expect(text).toContain("--project-dir");
        expect(text).toContain("--json");
      }
    }
    // The hidden daemon entry is not advertised.
    expect(byName.get("")).not.toContain("__daemon");
    // Help neither starts a daemon nor creates state.
    expect(existsSync(join(dir, ".ve"))).toBe(false);
  });

  test("watch, which draws for a person, does not offer --json in its help; given anyway, it says what gives JSON", async () => {
    const help = await ve(project(), ["orch", "watch", "--help"]);
    expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: "" });
    expect(help.stdout).toContain("--status");
    expect(help.stdout).not.toContain("--json");
    const refused = await ve(project(), ["orch", "watch", "--json"]);
    expect(refused.code).toBe(2);
    expect(refused.stdout + refused.stderr).toContain("ve orch events --json");
  });

  test("--help after other arguments still shows help", async () => {
    const r = await ve(project(), ["orch", "work-unit", "create", "x", "--status", "READY", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ve orch work-unit create");
  });

  test("help output has no colour codes when piped", async () => {
    const r = await ve(project(), ["orch", "--help"], { env: { NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined } });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("\u001b[");
  });
});

describe("colour", () => {
  const ESC = "\u001b[";
  const noColorEnv = { NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined, TERM: "xterm-256color" };

  /** `ve args` on a pseudo-terminal (through `script`), as a person would see it. */
  function onTerminal(args: string[], env: Record<string, string | undefined>) {
    const command = [VE, ...args].map((a) => `'${a}'`).join(" ");
    const terminal = onPty(command);
    return run(terminal.argv, { env: { ...terminal.env, ...env } });
  }

  test.skipIf(!hasScript)("only on a terminal, and never with NO_COLOR", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    expect((await ve(dir, ["orch", "work-unit", "create", "painted"])).code).toBe(0);
    const args = ["orch", "ps", "--project-dir", dir];

    const tty = await onTerminal(args, noColorEnv);
    expect(tty.code).toBe(0);
    expect(tty.stdout).toContain("painted");
    expect(tty.stdout).toContain(ESC);

    const ttyNoColor = await onTerminal(args, { ...noColorEnv, NO_COLOR: "1" });
    expect(ttyNoColor.code).toBe(0);
    expect(ttyNoColor.stdout).toContain("painted");
    expect(ttyNoColor.stdout).not.toContain(ESC);

    const piped = await ve(dir, ["orch", "ps"], { env: noColorEnv });
    expect(piped.stdout).toContain("painted");
    expect(piped.stdout).not.toContain(ESC);
    const pipedError = await ve(dir, ["orch", "work-unit", "show", "nope"], { env: noColorEnv });
    expect(pipedError.code).toBe(1);
    expect(pipedError.stderr).not.toContain(ESC);
  });
});

describe("--version", () => {
  test("prints the package version", async () => {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dir, "../../package.json"), "utf8")) as { version: string };
    const r = await ve(null, ["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe("usage errors exit 2", () => {
  const cases: [string, string[], RegExp][] = [
    ["unknown option", ["orch", "ps", "--bogus"], /Unknown option --bogus/],
    ["unknown command", ["orch", "bogus"], /Unknown command 'bogus'/],
    ["unknown work-unit command", ["orch", "work-unit", "bogus"], /Unknown command 'bogus'/],
    ["missing command", ["orch"], /Missing command/],
    ["missing CHUNK (create)", ["orch", "work-unit", "create"], /Missing CHUNK/],
    ["missing CHUNK (show)", ["orch", "work-unit", "show"], /Missing CHUNK/],
    ["missing CHUNK (delete)", ["orch", "work-unit", "delete"], /Missing CHUNK/],
    ["bad --status value", ["orch", "ps", "--status", "SLEEPING"], /--status must be one of .*SLEEPING/],
    ["bad --phase value", ["orch", "work-unit", "create", "a", "--phase", "TESTING"], /--phase must be one of/],
    ["bad NEW_STATUS", ["orch", "work-unit", "status", "a", "SLEEPING"], /NEW_STATUS must be one of/],
    ["--port without --tcp", ["orch", "start", "--port", "4000"], /--port only applies with --tcp/],
    ["bad --port", ["orch", "start", "--tcp", "--port", "99999"], /--port must be/],
    ["option without its value", ["orch", "ps", "--status"], /--status needs a value/],
    ["unexpected argument", ["orch", "ps", "extra"], /Unexpected argument 'extra'/],
    ["bad -n", ["orch", "logs", "-n", "many"], /--lines must be/],
    ["logs -f with --json", ["orch", "logs", "-f", "--json"], /--follow cannot be combined with --json/],
    ["update with nothing to change", ["orch", "work-unit", "update", "a"], /Nothing to change/],
  ];

  test.each(cases)("%s", async (_name, args, message) => {
    // No daemon runs: a usage error is reported as such (2), not as "not running" (3).
    const dir = project();
    // A command group (`ve orch`) takes no options, so those cases run from inside the project.
    const r = args.length < 2 ? await ve(null, args, { cwd: dir }) : await ve(dir, args);
    expect(r.code).toBe(2);
    if (args.includes("--json")) {
      // With --json the error is the one document on stdout.
      expect(JSON.parse(r.stdout).error.code).toBe("usage");
      expect(JSON.parse(r.stdout).error.message).toMatch(message);
    } else {
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(join(dir, ".ve"))).toBe(false);
  });

  test("a usage error is still 2 when a daemon runs, and changes nothing", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    expect((await ve(dir, ["orch", "work-unit", "create", "a", "--status", "NOPE"])).code).toBe(2);
    expect((await ve(dir, ["orch", "work-unit", "create", "a", "--frobnicate"])).code).toBe(2);
    const ps = await ve(dir, ["orch", "ps"]);
    expect(ps.code).toBe(0);
    expect(ps.stdout).toContain("No work units.");
  });

  test("a missing --project-dir directory is a usage error naming it", async () => {
    const r = await ve(null, ["orch", "status", "--project-dir", "/nonexistent/ve-e2e-project"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("/nonexistent/ve-e2e-project");
  });
});

describe("help as a command, -h, did you mean", () => {
  test("`ve help`, `ve orch help`, `ve help orch work-unit create`, `ve -h`: exit 0, the page on stdout", async () => {
    for (const [args, mentions] of [
      [["help"], ["orch", "completion"]],
      [["-h"], ["orch"]],
      [["orch", "help"], ["start", "work-unit"]],
      [["orch", "-h"], ["start", "work-unit"]],
      [["help", "orch", "work-unit", "create"], ["--blocked-by", "CHUNK"]],
      [["orch", "help", "ps"], ["--status"]],
    ] as const) {
      const r = await ve(null, [...args]);
      const label = `ve ${args.join(" ")}`;
      expect({ label, code: r.code, stderr: r.stderr }).toEqual({ label, code: 0, stderr: "" });
      for (const word of mentions) expect(r.stdout).toContain(word);
    }
  });

  test("a mistyped command or option suggests the one meant", async () => {
    for (const [args, hint] of [
      [["ocrh"], "did you mean 'orch'?"],
      [["orch", "stauts"], "did you mean 'status'?"],
      [["orch", "work-unit", "craete", "x"], "did you mean 'create'?"],
      [["orch", "ps", "--stauts", "READY"], "did you mean --status?"],
      [["help", "orch", "sotp"], "did you mean 'stop'?"],
    ] as const) {
      const r = await ve(project(), [...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(hint);
    }
  });
});

describe("daemon errors in the command's flags", () => {
  test("invalid names quoted with the rule, --force only where it helps, no API field names", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    const apiWording = /\bblocked_by\b|expected_updated_at|\bor null\b|\bpass force\b|\bwith force\b/;
    const bad = await ve(dir, ["orch", "work-unit", "create", "x", "--blocked-by", "ok,bad/name"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--blocked-by 'bad/name' contains '/'");
    const badName = await ve(dir, ["orch", "work-unit", "create", "a..b"]);
    expect(badName.stderr).toContain("Chunk name 'a..b' contains '..'");
    expect((await ve(dir, ["orch", "work-unit", "create", "a", "--status", "DONE"])).code).toBe(0);
    const transition = await ve(dir, ["orch", "work-unit", "status", "a", "RUNNING"]);
    expect(transition.code).toBe(1);
    expect(transition.stderr).toContain("--force");
    expect((await ve(dir, ["orch", "work-unit", "create", "b"])).code).toBe(0);
    expect((await ve(dir, ["orch", "work-unit", "create", "c", "--blocked-by", "b"])).code).toBe(0);
    const blocked = await ve(dir, ["orch", "work-unit", "status", "c", "READY"]);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).not.toContain("force");
    const worktree = await ve(dir, ["orch", "work-unit", "update", "c", "--worktree="]);
    expect(worktree.stderr).toContain("--clear-worktree");
    const stale = await ve(dir, ["orch", "work-unit", "update", "c", "--phase", "PLAN", "--expected-updated-at", "2020-01-01T00:00:00.000Z"]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain("--expected-updated-at");
    const dependents = await ve(dir, ["orch", "work-unit", "delete", "b"]);
    expect(dependents.stderr).toContain("--force");
    for (const r of [bad, badName, transition, blocked, worktree, stale, dependents]) expect(r.stderr).not.toMatch(apiWording);
  });
});
