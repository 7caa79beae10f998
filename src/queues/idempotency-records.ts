import type { Redis } from 'ioredis';
import { bucketStartMinute, bucketTtlSeconds, contentTag, identityFingerprint, lookupBuckets } from '../domain/idempotency-window';

export interface IdempotencyRecordsOptions {
  /** Redis key namespace (the queue prefix). */
  prefix: string;
  /** IDEMPOTENCY_WINDOW_MINUTES: a record answers for at least this long, and at most twice this. */
  windowMinutes: number;
  /** The clock buckets are cut from. Default Date.now; tests move it. */
  now?: () => number;
}

/** One client-chosen event_id, as the records know it. */
export interface IdempotencyEntry {
  sourceApp: string;
  eventId: string;
  contentHash: string;
}

/** HSETNX keeps the first content of an id when two API processes accept it at once; EXPIRE bounds the bucket's life. */
const REMEMBER = `
for i = 2, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 0`;

type WithRemember<T> = T & { afRememberIdempotency(key: string, ttl: number, ...pairs: Buffer[]): Promise<unknown> };

/**
 * The API's idempotency records: per source app and time bucket, one Redis
 * hash of identity fingerprint → content tag (src/domain/idempotency-window.ts).
 * Memory follows the load of the last two windows, never the history:
 * ~rate × 2 windows × the bytes of one record (docs/reliability.md).
 * A lookup or a write is one round trip whatever the number of events (its commands go out together).
 */
export class IdempotencyRecords {
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly options: IdempotencyRecordsOptions,
  ) {
    this.now = options.now ?? Date.now;
    redis.defineCommand('afRememberIdempotency', { numberOfKeys: 1, lua: REMEMBER });
  }

  /** App names cannot contain ':' (see the api_keys check), so app and bucket cannot run into each other. */
  bucketKey(sourceApp: string, bucketStart: number): string {
    return `${this.options.prefix}:idem:${sourceApp}:${bucketStart}`;
  }

  /** The content tag (hex) recorded for each entry the window still holds, by entry index. */
  async lookup(entries: IdempotencyEntry[]): Promise<Map<number, string>> {
    const found = new Map<number, string>();
    if (entries.length === 0) return found;
    const byApp = groupByApp(entries);
    const buckets = lookupBuckets(this.now(), this.options.windowMinutes);
    // Commands sent together, not a pipeline: ioredis copies every script defined on the connection (BullMQ's) onto each pipeline it builds.
    const requests: Promise<(Buffer | null)[]>[] = [];
    for (const [app, items] of byApp) {
      const fields = items.map((i) => identityFingerprint(app, entries[i]!.eventId));
      for (const bucket of buckets) requests.push(this.redis.hmgetBuffer(this.bucketKey(app, bucket), ...fields));
    }
    const replies = await Promise.all(requests);
    let reply = 0;
    for (const items of byApp.values()) {
      // The current bucket first: it holds the latest record of an id.
      for (let b = 0; b < buckets.length; b++) {
        replies[reply++]!.forEach((value, k) => {
          const index = items[k]!;
          if (value && !found.has(index)) found.set(index, value.toString('hex'));
        });
      }
    }
    return found;
  }

  /** Records the entries in the current bucket (the first content of an id wins). */
  async remember(entries: IdempotencyEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const now = this.now();
    const bucket = bucketStartMinute(now, this.options.windowMinutes);
    const ttl = bucketTtlSeconds(bucket, this.options.windowMinutes, now);
    const redis = this.redis as WithRemember<Redis>;
    const requests: Promise<unknown>[] = [];
    for (const [app, items] of groupByApp(entries)) {
      const pairs = items.flatMap((i) => [identityFingerprint(app, entries[i]!.eventId), contentTag(entries[i]!.contentHash)]);
      requests.push(redis.afRememberIdempotency(this.bucketKey(app, bucket), ttl, ...pairs));
    }
    await Promise.all(requests);
  }
}

/** The content tag of a content hash, as lookup() returns it. */
export function contentTagHex(contentHash: string): string {
  return contentTag(contentHash).toString('hex');
}

function groupByApp(entries: IdempotencyEntry[]): Map<string, number[]> {
  const byApp = new Map<string, number[]>();
  entries.forEach((entry, index) => {
    const items = byApp.get(entry.sourceApp);
    if (items) items.push(index);
    else byApp.set(entry.sourceApp, [index]);
  });
  return byApp;
}
