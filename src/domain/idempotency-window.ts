import { sha256Bytes } from './sha256';

/**
 * The compact form of the API's idempotency records (src/queues/idempotency-records.ts).
 *
 * Records live in time buckets one window long; a lookup reads the current
 * bucket and the one before, so a record answers for at least one window and
 * at most two. Each record is a fingerprint of the event's identity and a
 * short tag of its content, as bytes: in a Redis hash of millions of fields,
 * an 8-byte field and a 4-byte value take the same allocations as any
 * shorter binary (jemalloc's 16- and 8-byte classes), and a decimal number
 * of the same bits would not fit in them.
 */

/** Bytes of the identity fingerprint: 64 bits, so a false match among 6M live records is ~1 in 3 trillion per event. */
export const FINGERPRINT_BYTES = 8;
/** Bytes of the content tag: enough to tell a repost (`duplicate`) from a reuse of the id (409 `conflict`). */
export const CONTENT_TAG_BYTES = 4;
/** Kept past the end of a bucket's second window: clocks of API hosts and Redis differ a little. */
export const BUCKET_SLACK_SECONDS = 60;

/** The bucket `nowMs` falls in, numbered by its start in minutes since the epoch (so a changed window never reuses a number for other times). */
export function bucketStartMinute(nowMs: number, windowMinutes: number): number {
  return Math.floor(nowMs / 60_000 / windowMinutes) * windowMinutes;
}

/** The buckets a lookup at `nowMs` reads: the current one, then the one before. */
export function lookupBuckets(nowMs: number, windowMinutes: number): [number, number] {
  const current = bucketStartMinute(nowMs, windowMinutes);
  return [current, current - windowMinutes];
}

/** Seconds a bucket must live from `nowMs`: to the end of the window after its own, plus slack. Never more than two windows and the slack. */
export function bucketTtlSeconds(bucketStart: number, windowMinutes: number, nowMs: number): number {
  const endMs = (bucketStart + 2 * windowMinutes) * 60_000;
  return Math.max(1, Math.ceil((endMs - nowMs) / 1000)) + BUCKET_SLACK_SECONDS;
}

/** The record's field: a 64-bit fingerprint of the event's identity (its id within its app). */
export function identityFingerprint(sourceApp: string, eventId: string): Buffer {
  return sha256Bytes(`${sourceApp}\n${eventId}`).subarray(0, FINGERPRINT_BYTES);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The record's value: the first 32 bits of the content hash (SHA-256 hex), or of the hash of any other text. */
export function contentTag(contentHash: string): Buffer {
  if (SHA256_HEX.test(contentHash)) return Buffer.from(contentHash.slice(0, 2 * CONTENT_TAG_BYTES), 'hex');
  return sha256Bytes(contentHash).subarray(0, CONTENT_TAG_BYTES);
}
