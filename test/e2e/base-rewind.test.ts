// Landing integrity (issue 24, item 12): an agent that moves the base backwards (`git branch -f`,
// `update-ref`, `reset --hard` through `git -C`) drops landed units from it while they stay
// DONE. The engine keeps the tip it published and refuses to go on over a rewound base.
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { expectOk, git, useEngineProjects } from "./engine-harness.ts";
import { waitFor } from "./harness.ts";

const e = useEngineProjects("ve-rewind");
const TEST_MS = 120_000;

const settled = (chunk: string) => (units: { chunk: string; status: string }[]) =>
  ["DONE", "NEEDS_ATTENTION"].includes(units.find((u) => u.chunk === chunk)?.status ?? "");

/** a lands; b's agent waits on a gate file, so the test (as the tampering agent) moves main meanwhile. */
async function landAThenHoldB(checkedOut = false) {
  const { dir, script } = e.repo();
  const initial = git(dir, "rev-parse", "main");
  // By default main is not checked out anywhere: landings move the ref alone, as a rewind would.
  if (!checkedOut) git(dir, "checkout", "-q", "-b", "work");
  const gate = `${script}.gate`;
  await e.start(dir, script, {
    a: { IMPLEMENT: [{ write: { "a.txt": "a\n" } }], "*": [] },
    b: { IMPLEMENT: [[{ wait_for_file: gate }, { write: { "b.txt": "b\n" } }], [{ write: { "b.txt": "b\n" } }]], "*": [] },
    c: { IMPLEMENT: [{ write: { "c.txt": "c\n" } }], "*": [] },
  });
  expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT", "--base", "main"]));
  const [a] = await e.waitUnits(dir, settled("a"));
  expect(a?.status).toBe("DONE");
  const landed = git(dir, "rev-parse", "main");
  expect(git(dir, "ls-tree", "--name-only", "main")).toContain("a.txt");
  expectOk(await e.ve(dir, ["orch", "inject", "b", "--phase", "IMPLEMENT", "--base", "main"]));
  await waitFor(() => existsSync(`${script}.counts/b.IMPLEMENT`), 30_000);
  return { dir, initial, landed, gate };
}

describe("a base moved backwards while a run was active", () => {
  test("b is held with attention naming the old and new tips, a and b's run; restored and retried, b lands with a's files on main", async () => {
    const { dir, initial, landed, gate } = await landAThenHoldB();
    git(dir, "update-ref", "refs/heads/main", initial);
    writeFileSync(gate, "");
    const units = await e.waitUnits(dir, settled("b"));
    const b = units.find((u) => u.chunk === "b");
    expect(b?.status).toBe("NEEDS_ATTENTION");
    expect(b?.attention?.kind).toBe("error");
    const reason = b?.attention?.reason ?? "";
    expect(reason).toContain(landed.slice(0, 12));
    expect(reason).toContain(initial.slice(0, 12));
    expect(reason).toContain("'a'");
    expect(reason).toMatch(/'b' \(run [0-9]{8}-[0-9]{6}-[0-9a-f]{6}\)/);
    expect(reason).toContain(`git update-ref refs/heads/main ${landed}`);
    expect(reason).toContain("ve orch retry b --accept-base");
    expect(git(dir, "rev-parse", "main")).toBe(initial);
    expect(units.find((u) => u.chunk === "a")?.status).toBe("DONE");
    // Retried while main is still rewound: held again, nothing landed.
    expectOk(await e.ve(dir, ["orch", "retry", "b"]));
    const again = (await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "b")?.status === "NEEDS_ATTENTION")).find((u) => u.chunk === "b");
    expect(again?.attention?.reason).toContain(landed.slice(0, 12));
    expect(git(dir, "rev-parse", "main")).toBe(initial);

    git(dir, "update-ref", "refs/heads/main", landed);
    // A person's own commit on top of the published tip is a fast-forward: never flagged.
    const tree = git(dir, "rev-parse", "main^{tree}");
    const own = git(dir, "commit-tree", tree, "-p", landed, "-m", "a person's commit");
    git(dir, "update-ref", "refs/heads/main", own);
    expectOk(await e.ve(dir, ["orch", "retry", "b"]));
    const done = (await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "b")?.status === "DONE", 60_000)).find((u) => u.chunk === "b");
    expect(done?.status).toBe("DONE");
    const files = git(dir, "ls-tree", "--name-only", "main").split("\n");
    expect(files).toContain("a.txt");
    expect(files).toContain("b.txt");
    git(dir, "merge-base", "--is-ancestor", own, "main");
  }, TEST_MS);

  test("`ve orch retry b --accept-base` keeps the rewound base: b lands on it, and later landings are checked against the new tip", async () => {
    const { dir, initial, gate } = await landAThenHoldB();
    git(dir, "update-ref", "refs/heads/main", initial);
    writeFileSync(gate, "");
    const b = (await e.waitUnits(dir, settled("b"))).find((u) => u.chunk === "b");
    expect(b?.status).toBe("NEEDS_ATTENTION");
    const refused = await e.ve(dir, ["orch", "retry", "--all", "--accept-base"]);
    expect(refused.code).not.toBe(0);
    expectOk(await e.ve(dir, ["orch", "retry", "b", "--accept-base"]));
    const done = (await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "b")?.status === "DONE", 60_000)).find((u) => u.chunk === "b");
    expect(done?.status).toBe("DONE");
    const files = git(dir, "ls-tree", "--name-only", "main").split("\n");
    expect(files).toContain("b.txt");
    // b landed on the base as the person kept it (a's files come back only through b's own history).
    expect(git(dir, "rev-parse", "main^1")).toBe(initial);
    // The tip b published is the one checked from now on: moving main back from it holds the next unit.
    const published = git(dir, "rev-parse", "main");
    git(dir, "update-ref", "refs/heads/main", initial);
    expectOk(await e.ve(dir, ["orch", "inject", "c", "--phase", "IMPLEMENT", "--base", "main"]));
    const c = (await e.waitUnits(dir, settled("c"))).find((u) => u.chunk === "c");
    expect(c?.status).toBe("NEEDS_ATTENTION");
    expect(c?.attention?.reason).toContain(`git update-ref refs/heads/main ${published}`);
    expect(git(dir, "rev-parse", "main")).toBe(initial);
  }, TEST_MS);

  test("with main checked out, a ref moved back under the user's files is named as a rewind, not as the user's uncommitted changes", async () => {
    const { dir, initial, landed, gate } = await landAThenHoldB(true);
    // The agent's `git -C <checkout> update-ref`: the checkout's files still hold a's landing, so
    // they look like uncommitted changes against the rewound HEAD.
    git(dir, "update-ref", "refs/heads/main", initial);
    writeFileSync(gate, "");
    const b = (await e.waitUnits(dir, settled("b"))).find((u) => u.chunk === "b");
    expect(b?.status).toBe("NEEDS_ATTENTION");
    expect(b?.attention?.code).toBe("base_rewound");
    expect(b?.attention?.reason).toContain(`git update-ref refs/heads/main ${landed}`);
    expect(b?.attention?.reason).not.toMatch(/uncommitted/i);
    expect(git(dir, "rev-parse", "main")).toBe(initial);
  }, TEST_MS);
});
