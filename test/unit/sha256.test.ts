import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { sha256Bytes, sha256Hex } from '../../src/domain/sha256';
import { CONTENT_TAG_BYTES, contentTag, FINGERPRINT_BYTES, identityFingerprint } from '../../src/domain/idempotency-window';

/**
 * Stored hashes (content hashes, row hashes, idempotency fingerprints) were
 * taken with a Hash object. The one-shot hash must give the same bytes for
 * every text, lone surrogates included, or stored chains would stop verifying.
 */
describe('sha256: the one-shot hash gives the Hash object’s bytes', () => {
  const texts = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) }));

  it('hex and bytes, for any text', () => {
    fc.assert(
      fc.property(texts, (text) => {
        const expected = createHash('sha256').update(text).digest();
        expect(sha256Hex(text)).toBe(expected.toString('hex'));
        expect(sha256Bytes(text).equals(expected)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('idempotency records keep the fingerprints and tags they had, so records written before an upgrade still match', () => {
    fc.assert(
      fc.property(texts, texts, (sourceApp, eventId) => {
        const before = createHash('sha256').update(sourceApp).update('\n').update(eventId).digest().subarray(0, FINGERPRINT_BYTES);
        expect(identityFingerprint(sourceApp, eventId).equals(before)).toBe(true);
        expect(contentTag(eventId).equals(createHash('sha256').update(eventId).digest().subarray(0, CONTENT_TAG_BYTES))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
