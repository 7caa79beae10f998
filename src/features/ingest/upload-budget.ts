/**
 * The bytes of ingest bodies this API process is reading, reserved when a
 * post is admitted (its Content-Length, or the body limit when it sends
 * none) and given back once its body has arrived or its connection closed.
 *
 * A body is kept in memory as it arrives, until its last byte does: an
 * upload left hanging one byte short of BODY_LIMIT_BYTES holds that much for
 * up to Node's requestTimeout. Without a bound, one app's few hundred such
 * uploads ran the process out of memory. So one app may have at most
 * `perAppBytes` being uploaded at once, and all apps together `totalBytes`;
 * past either, its posts are refused before their body is read.
 */
const MIB = 1024 * 1024;

export class UploadBudget {
  private total = 0;
  private readonly byApp = new Map<string, number>();

  constructor(
    readonly perAppBytes: number,
    readonly totalBytes: number,
  ) {}

  /** Budgets sized from the body limit: 16 bodies at the limit per app, 64 in all (at least 16 and 64 MiB). */
  static forBodyLimit(bodyLimitBytes: number): UploadBudget {
    return new UploadBudget(Math.max(16 * bodyLimitBytes, 16 * MIB), Math.max(64 * bodyLimitBytes, 64 * MIB));
  }

  /** Reserves `bytes` for `app`: the function that gives them back (idempotent), or which bound refused them. */
  reserve(app: string, bytes: number): (() => void) | 'app' | 'total' {
    const mine = this.byApp.get(app) ?? 0;
    // A post is always let in when nothing of its app is being read, so a body at the limit is never refused for its size alone.
    if (mine > 0 && mine + bytes > this.perAppBytes) return 'app';
    if (this.total > 0 && this.total + bytes > this.totalBytes) return 'total';
    this.byApp.set(app, mine + bytes);
    this.total += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= bytes;
      const left = (this.byApp.get(app) ?? 0) - bytes;
      if (left > 0) this.byApp.set(app, left);
      else this.byApp.delete(app);
    };
  }

  /** Bytes reserved now, by all apps. */
  reserved(): number {
    return this.total;
  }
}
