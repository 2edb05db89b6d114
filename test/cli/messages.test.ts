// Errors the daemon words for API clients, as the CLI shows them: in the failing command's own
// flags, quoting the value given, with --force suggested only where that command has it. The
// errors are the store's real ones (the API passes them through unchanged), the argument
// tables the real commands'.
import { describe, expect, test } from "bun:test";
import { inCliTerms } from "../../src/cli/messages.ts";
import { type Command, type VeArgDef, parseArgv, resolveValue } from "../../src/cli/runner.ts";
import create from "../../src/cli/commands/work-unit/create.ts";
import remove from "../../src/cli/commands/work-unit/delete.ts";
import status from "../../src/cli/commands/work-unit/status.ts";
import update from "../../src/cli/commands/work-unit/update.ts";
import inject from "../../src/cli/commands/orch/inject.ts";
import { VeError } from "../../src/errors.ts";
import { thrownVeError } from "../helpers/errors.ts";
import { useStores } from "../helpers/stores.ts";

const { open } = useStores("ve-messages");

/** Words of the API that a person at the terminal never typed. */
const API_WORDING = /\bblocked_by\b|expected_updated_at|\bor null\b|\bpass force\b|\bwith force\b|\bforce: ?true\b/;

/** The message `command argv...` shows for `error`. */
async function shown(command: unknown, argv: string[], error: () => unknown): Promise<string> {
  const defs = ((await resolveValue((command as Command).args)) ?? {}) as Record<string, VeArgDef>;
  const args = parseArgv(argv, defs, "ve test");
  const message = inCliTerms(thrownVeError(error), defs, args).message;
  expect(message).not.toMatch(API_WORDING);
  if (process.env.VE_SHOW_MESSAGES) console.error(message);
  return message;
}

describe("daemon errors in the CLI's terms", () => {
  test("an invalid --blocked-by value is named by its flag, quoted, with the rule it broke", async () => {
    const store = open();
    const message = await shown(create, ["x", "--blocked-by", "ok,bad/name"], () =>
      store.create({ chunk: "x", blocked_by: ["ok", "bad/name"] }),
    );
    expect(message).toBe("--blocked-by 'bad/name' contains '/'; only letters, digits, '.', '_' and '-' are allowed.");
  });

  test("each invalid CHUNK is quoted with the one rule it broke", async () => {
    const store = open();
    for (const [name, rule] of [
      ["a..b", "contains '..'"],
      ["x.lock", "ends in '.lock'"],
      ["_lead", "starts with '_'"],
      ["trailing.", "ends in '.'"],
      ["x".repeat(101), "is 101 characters long"],
    ]) {
      const message = await shown(create, [name as string], () => store.create({ chunk: name as string }));
      expect(message).toStartWith(`Chunk name '${(name as string).slice(0, 60)}`);
      expect(message).toContain(rule as string);
    }
  });

  test("a refused transition suggests --force where the command has it", async () => {
    const store = open();
    store.create({ chunk: "a" });
    store.update("a", { status: "DONE" });
    const viaStatus = await shown(status, ["a", "RUNNING"], () => store.update("a", { status: "RUNNING" }));
    expect(viaStatus).toContain("cannot go from DONE to RUNNING");
    expect(viaStatus).toContain("--force");
    store.update("a", { phase: "PLAN" });
    const backward = await shown(update, ["a", "--phase", "GOAL"], () => store.update("a", { phase: "GOAL" }));
    expect(backward).toContain("--force");
  });

  test("no --force hint where the command has no --force", async () => {
    const store = open();
    store.create({ chunk: "a", status: "DONE" });
    const message = await shown(create, ["b"], () => store.update("a", { status: "RUNNING" }));
    expect(message).toContain("cannot go from DONE to RUNNING");
    expect(message).not.toContain("force");
  });

  test("blocked: --force cannot help, so it is not offered; the blockers are set through update", async () => {
    const store = open();
    store.create({ chunk: "base" });
    store.create({ chunk: "top", blocked_by: ["base"] });
    const viaStatus = await shown(status, ["top", "READY"], () => store.update("top", { status: "READY" }));
    expect(viaStatus).not.toContain("force");
    expect(viaStatus).toContain("--blocked-by");
    const viaUpdate = await shown(update, ["top", "--status", "READY"], () => store.update("top", { status: "READY" }));
    expect(viaUpdate).not.toContain("force");
    expect(viaUpdate).toContain("--blocked-by");
  });

  test("deleting a blocker of others points at delete's --force", async () => {
    const store = open();
    store.create({ chunk: "base" });
    store.create({ chunk: "top", blocked_by: ["base"] });
    const message = await shown(remove, ["base"], () => store.delete("base"));
    expect(message).toContain("'top'");
    expect(message).toContain("--force");
  });

  test("--worktree: the rule without `or null`, and the flag that unsets it", async () => {
    const store = open();
    store.create({ chunk: "a" });
    const message = await shown(update, ["a", "--worktree="], () => store.update("a", { worktree: "" }));
    expect(message).toStartWith("--worktree '' must be ");
    expect(message).toContain("--clear-worktree");
  });

  test("--expected-updated-at: a malformed value and a stale one speak of the flag", async () => {
    const store = open();
    const unit = store.create({ chunk: "a" });
    const malformed = await shown(update, ["a", "--status", "RUNNING", "--expected-updated-at", "yesterday"], () =>
      store.update("a", { status: "RUNNING", expected_updated_at: "yesterday" }),
    );
    expect(malformed).toStartWith("--expected-updated-at 'yesterday' must be ");
    store.update("a", { status: "RUNNING" });
    const stale = await shown(update, ["a", "--phase", "PLAN", "--expected-updated-at", unit.updated_at], () =>
      store.update("a", { phase: "PLAN", expected_updated_at: unit.updated_at }),
    );
    expect(stale).toContain("--expected-updated-at");
    expect(stale).toContain(unit.updated_at);
    expect(stale).toContain("ve orch work-unit show a");
  });

  test("an invalid chunk of inject's CHUNKS is a chunk name, not chunks[1]", async () => {
    const bad = () => {
      throw new VeError("validation_failed", "chunks[1] 'bad name' contains a space; only letters, digits, '.', '_' and '-' are allowed.", { field: "chunks[1]" });
    };
    expect(await shown(inject, ["ok", "bad name"], bad)).toBe("Chunk name 'bad name' contains a space; only letters, digits, '.', '_' and '-' are allowed.");
  });

  test("a goal read from --goal-file is named by that flag, not by --goal, which was not given", async () => {
    const tooLong = () => {
      throw new VeError("validation_failed", "goal must be 1-100000 characters.", { field: "goal" });
    };
    expect(await shown(inject, ["a", "--goal-file", "goal.md"], tooLong)).toBe("the text of --goal-file must be 1-100000 characters.");
    expect(await shown(inject, ["a", "--goal", "x"], tooLong)).toBe("--goal 'x' must be 1-100000 characters.");
  });

  test("codes and details stay as the daemon sent them", async () => {
    const store = open();
    const error = thrownVeError(() => store.create({ chunk: "x", blocked_by: ["bad/name"] }));
    const defs = (await resolveValue(create.args)) as Record<string, VeArgDef>;
    const translated = inCliTerms(error, defs, parseArgv(["x", "--blocked-by", "bad/name"], defs, "ve test"));
    expect(translated.code).toBe(error.code);
    expect(translated.details).toEqual(error.details);
  });
});
