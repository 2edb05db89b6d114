// Temporary directories that tests own alone: one per call, removed after the file's tests.
import { afterAll } from "bun:test";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Call at the top level of a test file; returns a factory of fresh, real (symlink-free)
 * directories that are all removed once the file's tests are done.
 */
export function useTempDirs(label = "ve"): () => string {
  const created: string[] = [];
  afterAll(() => {
    for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), `${label}-`)));
    created.push(dir);
    return dir;
  };
}
