import type { AppShare } from '../../domain/fair-share';

interface Tally {
  /** Events per bucket, in the same ring as the window's. */
  counts: number[];
  total: number;
}

/**
 * The events this API process accepted per source app over the last few
 * seconds, which fair shedding measures shares by (src/domain/fair-share.ts).
 * One update per admitted batch, none per event.
 *
 * The window's time is moved by its owner (`advance`), not read from a
 * clock: IngestBackpressure moves it only while the pipeline is open, so
 * while it stays saturated the shares stay those of the flood that
 * saturated it, rather than fading into "the quiet app sent everything".
 * Apps whose events all left the window are dropped; at most `maxApps` are
 * tracked at once.
 */
export class AppIntake {
  private readonly apps = new Map<string, Tally>();
  private readonly counts: number[];
  private total = 0;
  /** The bucket that `record` adds to (its index since the epoch); undefined before the first `advance`. */
  private bucket: number | undefined;

  constructor(
    private readonly buckets = 5,
    private readonly bucketMs = 1000,
    private readonly maxApps = 10_000,
  ) {
    this.counts = new Array<number>(buckets).fill(0);
  }

  /** Moves the window to `nowMs`: buckets that fall out of it are emptied, and the apps left with nothing are dropped. */
  advance(nowMs: number): void {
    const bucket = Math.floor(nowMs / this.bucketMs);
    if (this.bucket === undefined) this.bucket = bucket;
    const steps = Math.min(this.buckets, bucket - this.bucket);
    if (steps <= 0) return;
    for (let i = 1; i <= steps; i++) {
      const slot = (this.bucket + i) % this.buckets;
      this.total -= this.counts[slot]!;
      this.counts[slot] = 0;
      for (const [app, tally] of this.apps) {
        tally.total -= tally.counts[slot]!;
        tally.counts[slot] = 0;
        if (tally.total === 0) this.apps.delete(app);
      }
    }
    this.bucket = bucket;
  }

  /** Counts `events` accepted from `app` in the current bucket. */
  record(app: string, events: number): void {
    let tally = this.apps.get(app);
    if (!tally) {
      if (this.apps.size >= this.maxApps) return;
      tally = { counts: new Array<number>(this.buckets).fill(0), total: 0 };
      this.apps.set(app, tally);
    }
    const slot = (this.bucket ?? 0) % this.buckets;
    tally.counts[slot]! += events;
    tally.total += events;
    this.counts[slot]! += events;
    this.total += events;
  }

  /** The app's part of the window. An app that cannot be tracked (maxApps) counts as having sent everything: never within its share. */
  share(app: string): AppShare {
    const tally = this.apps.get(app);
    if (tally) return { mine: tally.total, total: this.total, apps: this.apps.size };
    if (this.apps.size >= this.maxApps) return { mine: this.total, total: this.total, apps: 1 };
    return { mine: 0, total: this.total, apps: this.apps.size + 1 };
  }

  /** Apps tracked now. */
  size(): number {
    return this.apps.size;
  }
}
