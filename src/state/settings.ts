// The settings group: the engine's settings (config) and what it knows of the repository across
// restarts (base_tips, the tip of each base as ve last published it).
import type { ConfigValue } from "../domain.ts";
import type { StateContext } from "./context.ts";

/** The tip of a base as the engine last published it. */
export interface BaseTip {
  base: string;
  tip: string;
  /** The unit whose landing published it; null when a person accepted a moved base. */
  chunk: string | null;
  at: string;
}

export class Settings {
  constructor(private readonly ctx: StateContext) {}

  config(): Map<string, ConfigValue> {
    const rows = this.ctx.db.query("SELECT key, value FROM config").all() as { key: string; value: string }[];
    return new Map(rows.map((r) => [r.key, JSON.parse(r.value) as ConfigValue]));
  }

  /** Sets a key; undefined removes it (its default applies again). */
  setConfig(key: string, value: ConfigValue | undefined): void {
    this.ctx.write(() => {
      if (value === undefined) this.ctx.db.query("DELETE FROM config WHERE key = ?").run(key);
      else
        this.ctx.db
          .query(
            "INSERT INTO config (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
          )
          .run(key, JSON.stringify(value), this.ctx.timestamp());
    });
  }

  /** The tip of `base` the engine last published, if it has landed there (or a person accepted one). */
  baseTip(base: string): BaseTip | undefined {
    return (this.ctx.db.query("SELECT base, tip, chunk, at FROM base_tips WHERE base = ?").get(base) ?? undefined) as BaseTip | undefined;
  }

  publishBaseTip(base: string, tip: string, chunk: string | null): void {
    this.ctx.db
      .query(
        "INSERT INTO base_tips (base, tip, chunk, at) VALUES (?, ?, ?, ?) ON CONFLICT (base) DO UPDATE SET tip = excluded.tip, chunk = excluded.chunk, at = excluded.at",
      )
      .run(base, tip, chunk, this.ctx.timestamp());
  }

  /** A person keeps a base someone moved backwards: the next landing publishes it as it is then. */
  forgetBaseTip(base: string): void {
    this.ctx.db.query("DELETE FROM base_tips WHERE base = ?").run(base);
  }
}
