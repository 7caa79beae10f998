import fc from 'fast-check';
import { BUCKET_SLACK_SECONDS, bucketStartMinute, bucketTtlSeconds, CONTENT_TAG_BYTES, contentTag, FINGERPRINT_BYTES, identityFingerprint, lookupBuckets } from '../../src/domain/idempotency-window';
import { sha256Hex } from '../../src/domain/sha256';

const MINUTE = 60_000;
const t0 = Date.UTC(2026, 11, 5, 10, 0, 0);

describe('idempotency buckets', () => {
  it('cut time into windows, each named by its start in minutes since the epoch', () => {
    expect(bucketStartMinute(t0, 10)).toBe(t0 / MINUTE);
    expect(bucketStartMinute(t0 + 9 * MINUTE + 59_999, 10)).toBe(t0 / MINUTE);
    expect(bucketStartMinute(t0 + 10 * MINUTE, 10)).toBe(t0 / MINUTE + 10);
    expect(bucketStartMinute(t0 - 1, 10)).toBe(t0 / MINUTE - 10);
  });

  it('are read two at a time, the current one first, so a record answers for one to two windows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 * 60 }), fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 0, max: 4 * 24 * 60 * MINUTE }), (window, written, after) => {
        const bucket = bucketStartMinute(written, window);
        const seen = lookupBuckets(written + after, window).includes(bucket);
        // Always seen within one window of the write; never seen two windows after it.
        if (after < window * MINUTE) expect(seen).toBe(true);
        if (after >= 2 * window * MINUTE) expect(seen).toBe(false);
      }),
    );
    expect(lookupBuckets(t0 + 5 * MINUTE, 10)).toEqual([t0 / MINUTE, t0 / MINUTE - 10]);
  });

  it('live until the end of the window after their own, plus slack, and never longer than two windows and the slack', () => {
    const bucket = bucketStartMinute(t0, 10);
    expect(bucketTtlSeconds(bucket, 10, t0)).toBe(20 * 60 + BUCKET_SLACK_SECONDS);
    expect(bucketTtlSeconds(bucket, 10, t0 + 9 * MINUTE)).toBe(11 * 60 + BUCKET_SLACK_SECONDS);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 * 60 }), fc.integer({ min: 0, max: 4e12 }), (window, now) => {
        const ttl = bucketTtlSeconds(bucketStartMinute(now, window), window, now);
        expect(ttl).toBeLessThanOrEqual(2 * window * 60 + BUCKET_SLACK_SECONDS);
        // Still there while it is the previous bucket.
        expect(now + (ttl - BUCKET_SLACK_SECONDS) * 1000).toBeGreaterThanOrEqual((bucketStartMinute(now, window) + 2 * window) * MINUTE - 999);
      }),
    );
  });
});

describe('idempotency records', () => {
  it('fingerprint an event by its id within its app, in 8 bytes', () => {
    const id = '7b0e1c2a-5b7e-4e8f-9a1d-3c2b1a0f9e8d';
    expect(identityFingerprint('app-a', id)).toHaveLength(FINGERPRINT_BYTES);
    expect(identityFingerprint('app-a', id)).toEqual(identityFingerprint('app-a', id));
    // Two apps may choose the same id: their records differ.
    expect(identityFingerprint('app-a', id)).not.toEqual(identityFingerprint('app-b', id));
  });

  it('give distinct ids distinct fingerprints', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(identityFingerprint('app', `id-${i}`).toString('hex'));
    expect(seen.size).toBe(100_000);
  });

  it('tag content with the first 4 bytes of its SHA-256, so the same content matches and other content does not', () => {
    const hash = sha256Hex('{"a":1}');
    expect(contentTag(hash)).toHaveLength(CONTENT_TAG_BYTES);
    expect(contentTag(hash).toString('hex')).toBe(hash.slice(0, 8));
    expect(contentTag(hash)).not.toEqual(contentTag(sha256Hex('{"a":2}')));
    // Any other text is hashed first, so it still gets a 4-byte tag.
    expect(contentTag('not a hash')).toHaveLength(CONTENT_TAG_BYTES);
    expect(contentTag('not a hash')).not.toEqual(contentTag('not a hash either'));
  });
});
