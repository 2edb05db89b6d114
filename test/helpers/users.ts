// A second, unprivileged user for the security tests (they run as root here): created with
// useradd for the test file and removed after it. Where that is impossible the caller skips
// with the printed reason.
import { afterAll } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface OtherUser {
  name: string;
  uid: number;
  gid: number;
  /** `command` as this user (setpriv: no password, no login shell, no supplementary groups). */
  argv(command: string[]): string[];
  /**
   * A copy of `binary` this user can run: the checkout may sit below a directory only its
   * owner can enter (a clone in a mktemp directory is 0700), which the other user cannot pass.
   */
  runnable(binary: string): string;
}

/** Call at the top level of a test file; `user()` is the user, or a string saying why there is none. */
export function useOtherUser(label: string): () => OtherUser | string {
  let made: OtherUser | string | undefined;
  let shared: string | undefined;
  const copies = new Set<string>();
  afterAll(() => {
    if (typeof made === "object") Bun.spawnSync(["userdel", made.name]);
    if (shared) rmSync(shared, { recursive: true, force: true });
  });
  return () => {
    if (made !== undefined) return made;
    if (process.platform !== "linux") return (made = "a second user is created with Linux tools only");
    if (process.getuid?.() !== 0) return (made = "creating a second user needs root");
    const name = `${label}-${process.pid}`.slice(0, 31);
    const add = Bun.spawnSync(["useradd", "--no-create-home", "--shell", "/bin/false", name], { stderr: "pipe" });
    if (add.exitCode !== 0) return (made = `useradd failed: ${add.stderr.toString().trim()}`);
    const id = (flag: string) => Number(Bun.spawnSync(["id", flag, name]).stdout.toString().trim());
    const uid = id("-u");
    const gid = id("-g");
    made = {
      name,
      uid,
      gid,
      argv: (command) => ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--", ...command],
      runnable: (binary) => {
        if (!shared) {
          shared = mkdtempSync(join(tmpdir(), "ve-shared-bin-"));
          chmodSync(shared, 0o755);
        }
        const copy = join(shared, binary.split("/").pop() as string);
        // Once per file: a copy that runs (a daemon) cannot be written again.
        if (!copies.has(copy)) {
          copyFileSync(binary, copy);
          chmodSync(copy, 0o755);
          copies.add(copy);
        }
        return copy;
      },
    };
    return made;
  };
}
