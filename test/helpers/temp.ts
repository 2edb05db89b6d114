// Temporary directories that tests own alone: one per call, removed after the file's tests.
import { afterAll } from "bun:test";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const created: string[] = [];
let hooked = false;

/** A fresh, real (symlink-free) directory, removed when the calling test file finishes. */
export function tempDir(label = "ve"): string {
  if (!hooked) {
    hooked = true;
    afterAll(() => {
      for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
    });
  }
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `${label}-`)));
  created.push(dir);
  return dir;
}
