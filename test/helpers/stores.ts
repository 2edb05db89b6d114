// Stores on fresh databases, each in a directory of its own, closed after every test.
import { afterEach } from "bun:test";
import { join } from "node:path";
import { Store, type StoreOptions } from "../../src/state/store.ts";
import { useTempDirs } from "./temp.ts";

/**
 * Call at the top level of a test file. Returns `open(options?)`, which opens a Store on a new
 * database in a directory of its own, and `newPath()`; every store `open` opened is closed
 * after each test (one a test closed itself is left alone).
 */
export function useStores(label: string): {
  open: (options?: StoreOptions) => Store;
  newPath: () => string;
} {
  const tempDir = useTempDirs(label);
  const opened: Store[] = [];
  afterEach(() => {
    for (const store of opened.splice(0)) {
      try {
        store.close();
      } catch {
        // already closed by the test
      }
    }
  });
  const newPath = () => join(tempDir(), "orchestrator.db");
  return {
    newPath,
    open: (options?: StoreOptions) => {
      const store = Store.open(newPath(), options);
      opened.push(store);
      return store;
    },
  };
}
