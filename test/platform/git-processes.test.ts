import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitProcessesIn } from "../../src/platform/process.ts";

test.if(process.platform === "linux")("a git working in a directory is found there and below, not elsewhere", async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "ve-gitproc-")));
  const inside = join(dir, "repo", "sub");
  mkdirSync(inside, { recursive: true });
  // `git hash-object --stdin` waits on its stdin: a git that is alive for as long as we want.
  const child = Bun.spawn(["git", "hash-object", "--stdin"], { cwd: inside, stdin: "pipe", stdout: "ignore", stderr: "ignore" });
  try {
    expect(gitProcessesIn([join(dir, "repo")])).toContain(child.pid);
    expect(gitProcessesIn([inside])).toContain(child.pid);
    expect(gitProcessesIn([join(dir, "rep")])).not.toContain(child.pid);
    expect(gitProcessesIn([join(dir, "other")])).not.toContain(child.pid);
  } finally {
    child.kill("SIGKILL");
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

test.if(process.platform !== "linux")("off Linux no listing is claimed", () => {
  expect(gitProcessesIn(["/"])).toBeUndefined();
});
