// Answers to reads, kept until the next change. Only when the store says no other process
// can write (the daemon's exclusive store): then its change feed reports every change there
// is, and scripts polling `ve orch ps` or `status` are answered without touching SQLite.

/** What the cache may hold in all, in characters of JSON text (bytes: it is ASCII). */
export const CACHE_MAX_CHARS = 64 * 1024 * 1024;
/**
 * A larger answer is rebuilt each time rather than held. A list of 100,000 units is 17 MB and
 * takes 80 ms to build, so it is still kept: that is where polling it hurts most.
 */
export const CACHE_MAX_ENTRY_CHARS = 32 * 1024 * 1024;

export class ReadCache {
  private readonly entries = new Map<string, string>();
  private chars = 0;

  /** A disabled cache builds every answer (a store other processes may write to). */
  constructor(readonly enabled = true) {}

  /** `build()`'s text for `key`, kept until `clear()`. */
  read(key: string, build: () => string): string {
    if (!this.enabled) return build();
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const text = build();
    if (text.length <= CACHE_MAX_ENTRY_CHARS && this.chars + text.length <= CACHE_MAX_CHARS) {
      this.entries.set(key, text);
      this.chars += text.length;
    }
    return text;
  }

  /** Forgets every answer: the data changed. */
  clear(): void {
    this.entries.clear();
    this.chars = 0;
  }
}
