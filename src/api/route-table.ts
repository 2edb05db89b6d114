// Which methods each registered path answers, derived from the app's routes, for the 405
// answer and its Allow header: a route added anywhere is in it without being written twice.

interface Entry {
  pattern: RegExp;
  methods: Set<string>;
}

function patternOf(path: string): RegExp {
  const segments = path.split("/").map((segment) => {
    if (segment === "*") return ".*";
    if (segment.startsWith(":")) return "[^/]+";
    return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  });
  return new RegExp(`^${segments.join("/")}$`);
}

export class MethodTable {
  private readonly entries: Entry[] = [];

  constructor(routes: Iterable<{ method: string; path: string }>) {
    const byPath = new Map<string, Entry>();
    for (const { method, path } of routes) {
      let entry = byPath.get(path);
      if (!entry) {
        entry = { pattern: patternOf(path), methods: new Set() };
        byPath.set(path, entry);
        this.entries.push(entry);
      }
      entry.methods.add(method);
    }
  }

  /** The methods some route answers on `path`, in a stable order; empty when none matches. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const entry of this.entries) if (entry.pattern.test(path)) for (const m of entry.methods) methods.add(m);
    return METHOD_ORDER.filter((m) => methods.has(m)).concat([...methods].filter((m) => !METHOD_ORDER.includes(m)).sort());
  }
}

const METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
