// The webhook secrets a delivery may be signed with. The secret file holds the current secret; when it
// changes (checked by a cheap stat on every request, so no watcher can miss an atomic rename), the
// previous secret stays valid for a grace period, covering deliveries signed just before the rotation.
import { readFileSync, statSync } from 'node:fs';

interface RetiredSecret {
  secret: string;
  acceptedUntilMs: number;
}

interface SecretKeyringOptions {
  secrets?: readonly string[];
  secretFile?: string;
  graceSeconds: number;
  now?: () => number;
}

export class SecretKeyring {
  private readonly explicit: readonly string[];
  private fileSecret: string | undefined;
  private fileVersion = '';
  private retired: RetiredSecret[] = [];
  private readonly now: () => number;

  constructor(private readonly options: SecretKeyringOptions) {
    this.explicit = (options.secrets ?? []).map((secret) => secret.trim()).filter(Boolean);
    this.now = options.now ?? Date.now;
    if (options.secretFile) this.reloadIfChanged(options.secretFile);
    if (this.explicit.length === 0 && !this.fileSecret) {
      throw new Error('the receiver needs at least one webhook secret (secrets or a non-empty secretFile)');
    }
  }

  /** The secrets accepted right now: explicit ones, the file's current one, and retired ones in grace. */
  current(): string[] {
    if (this.options.secretFile) this.reloadIfChanged(this.options.secretFile);
    const nowMs = this.now();
    this.retired = this.retired.filter((entry) => entry.acceptedUntilMs > nowMs);
    return [
      ...this.explicit,
      ...(this.fileSecret ? [this.fileSecret] : []),
      ...this.retired.map((entry) => entry.secret),
    ];
  }

  private reloadIfChanged(path: string): void {
    let version: string;
    let secret: string;
    try {
      const stats = statSync(path, { bigint: true });
      version = `${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
      if (version === this.fileVersion) return;
      secret = readFileSync(path, 'utf8').trim();
    } catch (error) {
      // At start a missing file is a configuration error; later (e.g. mid-rename) keep the last secret.
      if (this.fileSecret === undefined)
        throw new Error(`cannot read the webhook secret file ${path}: ${codeOf(error)}`);
      return;
    }
    // An empty read is a writer caught between truncate and write: keep the last secret, look again later.
    if (secret === '') return;
    this.fileVersion = version;
    if (secret === this.fileSecret) return;
    if (this.fileSecret !== undefined) {
      this.retired.push({ secret: this.fileSecret, acceptedUntilMs: this.now() + this.options.graceSeconds * 1000 });
    }
    this.retired = this.retired.filter((entry) => entry.secret !== secret);
    this.fileSecret = secret;
  }
}

/** The error code only: a message could quote file content, and this file holds a secret. */
function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'unreadable';
}
