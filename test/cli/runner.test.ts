// The strict command runner (DESIGN.md "CLI"): every argument problem is a usage error that
// names the argument and points at --help; exit codes 0 ok, 1 failed, 2 usage, 3 not running;
// with --json, stdout holds exactly one JSON document, errors included; --help on every level,
// without colour when not on a terminal.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { format } from "node:util";
import { VeError } from "../../src/errors.ts";
import { type VeArgDef, parseArgv, runCli } from "../../src/cli/runner.ts";
import { VERSION } from "../../src/version.ts";
import { received, root } from "./fixtures/commands.ts";

const ANSI = /\u001b\[/;

function parseError(tokens: string[], defs: Record<string, VeArgDef>, name = "ve thing"): VeError {
  try {
    parseArgv(tokens, defs, name);
  } catch (error) {
    if (error instanceof VeError) return error;
    throw error;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(tokens)}`);
}

function expectUsage(tokens: string[], defs: Record<string, VeArgDef>, mentions: string[], name = "ve thing"): void {
  const error = parseError(tokens, defs, name);
  expect(error.code).toBe("usage");
  for (const word of mentions) expect(error.message).toContain(word);
  expect(error.message).toEndWith(`see \`${name} --help\`.`);
}

describe("parseArgv: values", () => {
  const defs = {
    name: { type: "string" },
    count: { type: "string", alias: "n" },
    verbose: { type: "boolean", alias: ["V", "loud"] },
  } satisfies Record<string, VeArgDef>;

  test("--flag value and --flag=value", () => {
    expect(parseArgv(["--name", "alpha"], defs, "ve x")).toEqual({ name: "alpha" });
    expect(parseArgv(["--name=beta"], defs, "ve x")).toEqual({ name: "beta" });
    // Only the first '=' separates: the value may hold more.
    expect(parseArgv(["--name=a=b"], defs, "ve x")).toEqual({ name: "a=b" });
    // An explicit empty value is a value.
    expect(parseArgv(["--name="], defs, "ve x")).toEqual({ name: "" });
  });

  test("a one-letter alias is -a, a longer one --alias", () => {
    expect(parseArgv(["-n", "5"], defs, "ve x")).toEqual({ count: "5" });
    expect(parseArgv(["-n=7"], defs, "ve x")).toEqual({ count: "7" });
    expect(parseArgv(["-V"], defs, "ve x")).toEqual({ verbose: true });
    expect(parseArgv(["--loud"], defs, "ve x")).toEqual({ verbose: true });
  });

  test("a lone '-' is a value, not an option", () => {
    expect(parseArgv(["--name", "-"], defs, "ve x")).toEqual({ name: "-" });
  });

  test("a negative number is a value, not an option (`inject --priority -5`)", () => {
    expect(parseArgv(["--count", "-5"], defs, "ve x")).toEqual({ count: "-5" });
    expect(parseArgv(["-n", "-0.5"], defs, "ve x")).toEqual({ count: "-0.5" });
    const withPositional = { ...defs, text: { type: "positional", required: false } } satisfies Record<string, VeArgDef>;
    expect(parseArgv(["-1"], withPositional, "ve x")).toEqual({ text: "-1" });
  });

  test("booleans: --x, --x=true, --x=false, --no-x", () => {
    expect(parseArgv(["--verbose"], defs, "ve x")).toEqual({ verbose: true });
    expect(parseArgv(["--verbose=true"], defs, "ve x")).toEqual({ verbose: true });
    expect(parseArgv(["--verbose=false"], defs, "ve x")).toEqual({ verbose: false });
    expect(parseArgv(["--no-verbose"], defs, "ve x")).toEqual({ verbose: false });
    expect(parseArgv([], defs, "ve x")).toEqual({});
  });

  test("a boolean does not swallow the next token", () => {
    const withPositional = { ...defs, target: { type: "positional", required: false } } satisfies Record<string, VeArgDef>;
    expect(parseArgv(["--verbose", "here"], withPositional, "ve x")).toEqual({ verbose: true, target: "here" });
  });

  test("a boolean given a value other than true/false is a usage error naming it", () => {
    expectUsage(["--verbose=yes"], defs, ["--verbose", "yes"]);
  });

  test("--no-x is only for booleans", () => {
    expectUsage(["--no-name"], defs, ["--no-name"]);
  });

  test("kebab-case and camelCase names: both spellings reach the definition's key", () => {
    const names = {
      "project-dir": { type: "string" },
      expectedUpdatedAt: { type: "string" },
      dryRun: { type: "boolean" },
    } satisfies Record<string, VeArgDef>;
    expect(parseArgv(["--project-dir", "/p"], names, "ve x")).toEqual({ "project-dir": "/p" });
    expect(parseArgv(["--expected-updated-at", "T"], names, "ve x")).toEqual({ expectedUpdatedAt: "T" });
    expect(parseArgv(["--expectedUpdatedAt=T2"], names, "ve x")).toEqual({ expectedUpdatedAt: "T2" });
    expect(parseArgv(["--dry-run"], names, "ve x")).toEqual({ dryRun: true });
    expect(parseArgv(["--no-dry-run"], names, "ve x")).toEqual({ dryRun: false });
  });

  test("defaults fill in options and positionals that are not given", () => {
    const withDefaults = {
      lines: { type: "string", default: "50" },
      mode: { type: "positional", default: "all" },
    } satisfies Record<string, VeArgDef>;
    expect(parseArgv([], withDefaults, "ve x")).toEqual({ lines: "50", mode: "all" });
    expect(parseArgv(["--lines", "3", "some"], withDefaults, "ve x")).toEqual({ lines: "3", mode: "some" });
  });
});

describe("parseArgv: positionals and --", () => {
  const defs = {
    chunk: { type: "positional", required: true },
    status: { type: "positional", required: false },
    force: { type: "boolean" },
    name: { type: "string" },
  } satisfies Record<string, VeArgDef>;

  test("positionals fill in order, around options", () => {
    expect(parseArgv(["a", "--force", "b"], defs, "ve x")).toEqual({ chunk: "a", status: "b", force: true });
    expect(parseArgv(["a"], defs, "ve x")).toEqual({ chunk: "a" });
  });

  test("-- ends the options: what follows is positional even when it looks like a flag", () => {
    expect(parseArgv(["--", "--force"], defs, "ve x")).toEqual({ chunk: "--force" });
    expect(parseArgv(["--force", "--", "-x", "--name"], defs, "ve x")).toEqual({ force: true, chunk: "-x", status: "--name" });
  });

  test("a missing required positional is a usage error naming it", () => {
    expectUsage([], defs, ["CHUNK"], "ve orch work-unit create");
    expectUsage(["--force"], defs, ["CHUNK"]);
  });

  test("an unexpected extra positional is a usage error naming it", () => {
    expectUsage(["a", "b", "c"], defs, ["'c'"]);
    expectUsage(["a", "b", "--", "d"], defs, ["'d'"]);
  });

  test("a required option that is missing is a usage error naming it", () => {
    const required = { "project-dir": { type: "string", required: true } } satisfies Record<string, VeArgDef>;
    expectUsage([], required, ["--project-dir"]);
  });
});

describe("parseArgv: enums", () => {
  const defs = {
    status: { type: "enum", options: ["READY", "RUNNING", "NEEDS_ATTENTION"] },
  } satisfies Record<string, VeArgDef>;

  test("matched case-insensitively and returned in canonical spelling", () => {
    expect(parseArgv(["--status", "ready"], defs, "ve x")).toEqual({ status: "READY" });
    expect(parseArgv(["--status=Needs_Attention"], defs, "ve x")).toEqual({ status: "NEEDS_ATTENTION" });
    expect(parseArgv(["--status", "RUNNING"], defs, "ve x")).toEqual({ status: "RUNNING" });
  });

  test("a bad value is a usage error naming the option, the value and the choices", () => {
    expectUsage(["--status", "DONEISH"], defs, ["--status", "DONEISH", "READY", "RUNNING", "NEEDS_ATTENTION"]);
    expectUsage(["--status="], defs, ["--status"]);
  });
});

describe("parseArgv: every other mistake is a usage error naming the argument", () => {
  const defs = {
    name: { type: "string", alias: "n" },
    "blocked-by": { type: "string", repeatable: true },
    force: { type: "boolean" },
  } satisfies Record<string, VeArgDef>;

  test("an unknown option", () => {
    expectUsage(["--nmae", "x"], defs, ["--nmae"]);
    expectUsage(["-z"], defs, ["-z"]);
    expectUsage(["--nmae=x"], defs, ["--nmae"]);
  });

  test("a missing value, at the end or before another option", () => {
    expectUsage(["--name"], defs, ["--name", "value"]);
    expectUsage(["--name", "--force"], defs, ["--name", "value"]);
    expectUsage(["-n"], defs, ["-n", "value"]);
  });

  test("a non-repeatable option given twice, under either spelling", () => {
    expectUsage(["--name", "a", "--name", "b"], defs, ["--name", "more than once"]);
    expectUsage(["--name", "a", "-n", "b"], defs, ["-n", "more than once"]);
  });

  test("a repeatable option collects values from repeats and from commas", () => {
    expect(parseArgv(["--blocked-by", "a", "--blocked-by=b,c", "--blocked-by", "d"], defs, "ve x")).toEqual({
      "blocked-by": ["a", "b", "c", "d"],
    });
    expect(parseArgv(["--blocked-by", "a,,b,"], defs, "ve x")).toEqual({ "blocked-by": ["a", "b"] });
    expect(parseArgv(["--blocked-by", "solo"], defs, "ve x")).toEqual({ "blocked-by": ["solo"] });
  });

  test("every message ends by pointing at the command's --help", () => {
    for (const tokens of [["--nope"], ["--name"], ["--name", "a", "--name", "b"], ["extra"], ["--force=maybe"]]) {
      const error = parseError(tokens, defs, "ve orch work-unit update");
      expect(error.code).toBe("usage");
      expect(error.message).toEndWith("; see `ve orch work-unit update --help`.");
    }
  });
});

// --- runCli ------------------------------------------------------------------------------

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

const RUN_CLI_FIXTURE = join(import.meta.dir, "fixtures", "run-cli.ts");

/** Runs the CLI in this process with everything it writes to stdout and stderr captured. */
async function run(argv: string[]): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const streamWrite = (into: string[]) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      into.push(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk));
      const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof process.stdout.write;
  const consoleWrite = (into: string[]) => (...args: unknown[]) => {
    into.push(`${format(...args)}\n`);
  };
  const saved = {
    stdoutWrite: process.stdout.write,
    stderrWrite: process.stderr.write,
    log: console.log,
    error: console.error,
    warn: console.warn,
    info: console.info,
  };
  // The CLI may write through the streams or through console (which bypasses the streams).
  process.stdout.write = streamWrite(out);
  process.stderr.write = streamWrite(err);
  console.log = consoleWrite(out);
  console.info = consoleWrite(out);
  console.error = consoleWrite(err);
  console.warn = consoleWrite(err);
  try {
    const code = await runCli(root, argv);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = saved.stdoutWrite;
    process.stderr.write = saved.stderrWrite;
    console.log = saved.log;
    console.info = saved.info;
    console.error = saved.error;
    console.warn = saved.warn;
  }
}

/** Runs the CLI as a process of its own, stdout and stderr on pipes (not terminals). */
async function runProcess(argv: string[], env: Record<string, string | undefined> = {}): Promise<Captured> {
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...env })) if (value !== undefined) childEnv[key] = value;
  const child = Bun.spawn([process.execPath, RUN_CLI_FIXTURE, ...argv], {
    stdio: ["ignore", "pipe", "pipe"],
    env: childEnv,
  });
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { code, stdout, stderr };
  } finally {
    child.kill("SIGKILL");
    await child.exited;
  }
}

afterEach(() => {
  received.length = 0;
});

describe("runCli: running commands and exit codes", () => {
  test("a command that succeeds exits 0 with its parsed arguments", async () => {
    const result = await run(["orch", "create", "parser", "--phase", "plan", "--blocked-by", "a,b"]);
    expect(result.code).toBe(0);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ chunk: "parser", phase: "PLAN", "blocked-by": ["a", "b"] });
  });

  test("a command's returned number is the exit code", async () => {
    expect((await run(["orch", "exit-with", "0"])).code).toBe(0);
    expect((await run(["orch", "exit-with", "3"])).code).toBe(3);
  });

  test("request failures exit 1, usage 2, an absent or silent daemon 3", async () => {
    const cases: [string, number][] = [
      ["not_found", 1],
      ["validation_failed", 1],
      ["invalid_transition", 1],
      ["already_exists", 1],
      ["daemon_start_failed", 1],
      ["usage", 2],
      ["daemon_not_running", 3],
      ["daemon_unresponsive", 3],
    ];
    for (const [code, exit] of cases) {
      const result = await run(["orch", "fail", code]);
      expect({ code, exit: result.code }).toEqual({ code, exit });
    }
  });

  test("without --json, an error goes to stderr for people and nothing to stdout", async () => {
    const result = await run(["orch", "fail", "not_found"]);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("failing with not_found");
    expect(result.stderr).toContain("error");
  });

  test("an unexpected exception is reported as a bug and exits 1", async () => {
    const result = await run(["orch", "crash"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("kaboom");
    expect(result.stderr).toContain("bug");
    const json = await run(["orch", "crash", "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error.code).toBe("internal");
  });

  test("a usage error in the arguments exits 2 without running the command", async () => {
    const result = await run(["orch", "create", "x", "--phase", "LATER"]);
    expect(result.code).toBe(2);
    expect(received).toHaveLength(0);
    expect(result.stderr).toContain("--phase");
    expect(result.stderr).toContain("see `ve orch create --help`.");
  });
});

describe("runCli --json: exactly one JSON document on stdout, errors included", () => {
  const oneDocument = (stdout: string) => {
    expect(stdout.endsWith("\n")).toBe(true);
    expect(stdout.trimEnd().split("\n")).toHaveLength(1);
    return JSON.parse(stdout) as { error: { code: string; message: string; details?: unknown } };
  };

  test("a failing request prints the API's error object", async () => {
    const result = await run(["orch", "fail", "not_found", "--json"]);
    expect(result.code).toBe(1);
    const doc = oneDocument(result.stdout);
    expect(doc).toEqual({ error: { code: "not_found", message: "failing with not_found", details: { why: "test" } } });
    expect(result.stderr).toBe("");
  });

  test("daemon not running: exit 3 and the error document", async () => {
    const result = await run(["orch", "fail", "daemon_not_running", "--json"]);
    expect(result.code).toBe(3);
    expect(oneDocument(result.stdout).error.code).toBe("daemon_not_running");
  });

  test("usage errors too: a bad option value, a missing positional, an unknown option", async () => {
    for (const argv of [
      ["orch", "create", "x", "--phase", "LATER", "--json"],
      ["orch", "create", "--json"],
      ["orch", "create", "x", "--bogus", "--json"],
      ["orch", "create", "--json=true", "x", "y"],
    ]) {
      const result = await run(argv);
      expect({ argv, code: result.code }).toEqual({ argv, code: 2 });
      const doc = oneDocument(result.stdout);
      expect(doc.error.code).toBe("usage");
      expect(doc.error.message).toEndWith("see `ve orch create --help`.");
    }
  });

  test("an unknown command with --json is a JSON usage error", async () => {
    const result = await run(["orch", "nope", "--json"]);
    expect(result.code).toBe(2);
    expect(oneDocument(result.stdout).error.code).toBe("usage");
  });

  test("a --json after -- is a positional, not the switch", async () => {
    const result = await run(["orch", "create", "--", "--json", "extra"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("'extra'");
  });
});

describe("runCli: help, version, unknown and missing commands", () => {
  test("--help on the root, a group and a command prints usage on stdout and exits 0", async () => {
    for (const [argv, mentions] of [
      [["--help"], ["orch", "Test root"]],
      [["-h"], ["orch"]],
      [["orch", "--help"], ["create", "fail"]],
      [["orch", "create", "--help"], ["--phase", "--blocked-by", "CHUNK"]],
      [["orch", "create", "x", "--phase", "BAD", "-h"], ["--phase"]],
    ] as const) {
      const result = await run([...argv]);
      expect({ argv, code: result.code }).toEqual({ argv, code: 0 });
      for (const word of mentions) expect(result.stdout).toContain(word);
      expect(received).toHaveLength(0);
    }
  });

  test("help and errors have no ANSI escapes when stdout and stderr are not terminals", async () => {
    // Without NO_COLOR or CI, citty colours its help even when piped; the runner must strip it.
    const env = { NO_COLOR: undefined, CI: undefined, TEST: undefined, FORCE_COLOR: undefined, TERM: "xterm-256color" };
    for (const argv of [["--help"], ["orch", "--help"], ["orch", "create", "--help"]]) {
      const result = await runProcess(argv, env);
      expect({ argv, code: result.code }).toEqual({ argv, code: 0 });
      expect(result.stdout).toContain("USAGE");
      expect(result.stdout).not.toMatch(ANSI);
    }
    const failed = await runProcess(["orch", "fail", "not_found"], env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("failing with not_found");
    expect(failed.stderr).not.toMatch(ANSI);
    const missing = await runProcess(["orch"], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("USAGE");
    expect(missing.stderr).not.toMatch(ANSI);
  });

  test("a process's --json error is exactly one document on stdout", async () => {
    const result = await runProcess(["orch", "fail", "daemon_not_running", "--json"]);
    expect(result.code).toBe(3);
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toEqual({
      error: { code: "daemon_not_running", message: "failing with daemon_not_running", details: { why: "test" } },
    });
  });

  test("--help after -- is an argument, not a request for help", async () => {
    const result = await run(["orch", "create", "--", "--help"]);
    expect(result.code).toBe(0);
    expect(received[0]).toMatchObject({ chunk: "--help" });
  });

  test("the root's --version prints the version", async () => {
    const result = await run(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${VERSION}\n`);
  });

  test("an unknown command is a usage error listing the visible commands, never the hidden ones", async () => {
    const result = await run(["orhc"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("'orhc'");
    expect(result.stderr).toContain("orch");
    expect(result.stderr).not.toContain("secret-daemon");
    const nested = await run(["orch", "crate"]);
    expect(nested.code).toBe(2);
    expect(nested.stderr).toContain("create, fail, crash, exit-with");
    expect(nested.stderr).toContain("see `ve orch --help`.");
  });

  test("names of Object's own properties are unknown commands, not crashes", async () => {
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const result = await run(["orch", name]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`Unknown command '${name}'`);
    }
  });

  test("hidden commands still run", async () => {
    const result = await run(["secret-daemon"]);
    expect(result.code).toBe(0);
    expect(received).toEqual([{ secret: true }]);
  });

  test("hidden commands are not in the root's help", async () => {
    const result = await run(["--help"]);
    expect(result.stdout).not.toContain("secret-daemon");
  });

  test("a missing command is a usage error (exit 2) with the usage on stderr, nothing on stdout", async () => {
    const result = await run(["orch"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("create");
    expect(result.stderr).toContain("Missing command");
  });

  test("an option before the command is a usage error", async () => {
    const result = await run(["--project-dir", "/x", "orch"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--project-dir");
  });
});

describe("runCli: help as a command, did-you-mean, repeated switches, --version --json", () => {
  test("`help [command...]` works at every level, like --help", async () => {
    for (const [argv, mentions] of [
      [["help"], ["orch", "help"]],
      [["help", "orch"], ["create", "fail"]],
      [["help", "orch", "create"], ["--phase", "CHUNK"]],
      [["orch", "help"], ["create", "fail"]],
      [["orch", "help", "create"], ["--phase", "--blocked-by"]],
    ] as const) {
      const result = await run([...argv]);
      expect({ argv, code: result.code, stderr: result.stderr }).toEqual({ argv, code: 0, stderr: "" });
      for (const word of mentions) expect(result.stdout).toContain(word);
      expect(result.stdout).toContain("USAGE");
    }
    expect(received).toHaveLength(0);
  });

  test("help for an unknown command is a usage error with a suggestion", async () => {
    const result = await run(["help", "orhc"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("did you mean 'orch'?");
  });

  test("a mistyped command or option gets a 'did you mean'; a far-off one does not", async () => {
    expect((await run(["orhc"])).stderr).toContain("did you mean 'orch'?");
    expect((await run(["orch", "crate"])).stderr).toContain("did you mean 'create'?");
    expect((await run(["orch", "fial", "x"])).stderr).toContain("did you mean 'fail'?");
    const far = await run(["orch", "zzzzzz"]);
    expect(far.code).toBe(2);
    expect(far.stderr).not.toContain("did you mean");
    const option = await run(["orch", "create", "x", "--pahse", "GOAL"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Unknown option --pahse (did you mean --phase?)");
  });

  test("a switch given twice is refused like any other repeated flag, --json included", async () => {
    const twice = await run(["orch", "create", "x", "--json", "--json"]);
    expect(twice.code).toBe(2);
    expect(JSON.parse(twice.stdout).error.message).toContain("--json is given more than once");
    expect(received).toHaveLength(0);
    const negated = await run(["orch", "create", "x", "--json", "--no-json"]);
    expect(negated.code).toBe(2);
  });

  test("--version --json prints the build's facts as one document", async () => {
    const result = await run(["--version", "--json"]);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(["built_at", "commit", "target", "version"]);
    expect(doc.version).toBe(VERSION);
    const extra = await run(["--version", "--bogus"]);
    expect(extra.code).toBe(2);
  });

  test("help pages fit $COLUMNS, else 80 columns off a terminal, with no trailing spaces", async () => {
    for (const [env, width] of [
      [{ COLUMNS: "50" }, 50],
      [{ COLUMNS: undefined }, 80],
    ] as const) {
      for (const argv of [["--help"], ["orch", "--help"], ["orch", "create", "--help"]]) {
        const result = await runProcess(argv, env);
        expect(result.code).toBe(0);
        const lines = result.stdout.trimEnd().split("\n");
        const label = `${JSON.stringify(env)} ${argv.join(" ")}`;
        expect({ label, widest: Math.max(...lines.map((l) => l.length)) <= width }).toEqual({ label, widest: true });
        expect({ label, trailing: lines.filter((l) => l.endsWith(" ")) }).toEqual({ label, trailing: [] });
      }
    }
  });
});
