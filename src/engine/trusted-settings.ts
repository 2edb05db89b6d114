// The repository's shared git settings (config files and hooks of the common `.git`) as the
// engine last trusted them: read at the daemon's start, and taken again only when a person
// retries a unit held because they changed. Every git step of the engine that can run what the
// config names (a filter driver on a worktree's checkout or a phase commit's `git add`, a merge
// driver at a landing) is preceded by a comparison with them: a driver an agent plants while
// its own run goes on is never run for another unit before a person has looked.
import { type RepoSettings, readRepoSettings, repoSettingsChanges } from "../git/repo-settings.ts";

/** A held git step: what changed since the settings were trusted, for the attention. */
export class SettingsChanged extends Error {
  override readonly name = "SettingsChanged";
  constructor(
    readonly commonDir: string,
    readonly changes: readonly string[],
  ) {
    super(`the repository's shared git settings changed: ${changes.join("; ")}`);
  }
}

/** The attention code a held unit carries; a retry of such a unit trusts the settings as they are then. */
export const SETTINGS_CHANGED_CODE = "settings_changed";

export class TrustedSettings {
  private trusted: RepoSettings | undefined;

  constructor(
    private readonly repo: string,
    private readonly commonDir: () => Promise<string>,
  ) {}

  /** Trusts the settings as they are now (the daemon's start, a person's retry). */
  async trustNow(): Promise<void> {
    this.trusted = readRepoSettings(await this.commonDir());
  }

  /** Throws SettingsChanged when the settings differ from the trusted ones. */
  async require(): Promise<void> {
    if (this.trusted === undefined) await this.trustNow();
    const trusted = this.trusted as RepoSettings;
    const changes = await repoSettingsChanges(trusted, this.repo);
    if (changes.length > 0) throw new SettingsChanged(trusted.commonDir, changes);
  }
}

/** Whether a unit's next reason says a person retried it after a settings_changed hold. */
export function retriedAfterSettingsChange(nextReason: string | null): boolean {
  if (nextReason === null) return false;
  try {
    const reason = JSON.parse(nextReason) as { kind?: unknown; code?: unknown };
    return reason.kind === "retry_after_attention" && reason.code === SETTINGS_CHANGED_CODE;
  } catch {
    return false;
  }
}
