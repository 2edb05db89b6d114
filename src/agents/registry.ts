// The one list of backends. Each name here is a backend everywhere: its settings
// (`backends.<name>.*`, engine/config.ts), the values `inject --backend` and the API accept,
// and the backends the daemon runs and `ve orch backend` lists and checks. A new backend is its
// adapter file beside these and one line below. Adapters load lazily: the CLI reads the names
// without loading any adapter's code (codex's reads files; see test/cli/bundle.test.ts).
import type { Backend } from "./backend.ts";

export const BACKEND_REGISTRY = [
  { name: "command", load: async () => (await import("./command.ts")).commandBackend },
  { name: "claude", load: async () => (await import("./claude.ts")).claudeBackend },
  { name: "codex", load: async () => (await import("./codex.ts")).codexBackend },
] as const satisfies readonly { name: string; load: () => Promise<Backend> }[];

export type BackendName = (typeof BACKEND_REGISTRY)[number]["name"];

/** The names, in the registry's order. */
export const BACKEND_NAMES = BACKEND_REGISTRY.map((entry) => entry.name) as readonly BackendName[] as readonly [BackendName, ...BackendName[]];

/** Every backend's adapter, by name; the daemon loads them once at start. */
export async function loadBackends(): Promise<Readonly<Record<string, Backend>>> {
  const loaded = await Promise.all(BACKEND_REGISTRY.map(async (entry) => [entry.name, await entry.load()] as const));
  for (const [name, backend] of loaded) {
    // A registry line naming another file's adapter would run one backend under two names.
    if (backend.name !== name) throw new Error(`the registry's backend '${name}' loads an adapter named '${backend.name}'`);
  }
  return Object.fromEntries(loaded);
}
