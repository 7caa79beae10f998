import * as crypto from 'node:crypto';

/**
 * Node's one-shot hash (20.12 and later). For the short texts hashed per
 * event (content hashes, row hashes, idempotency fingerprints) it costs about
 * a third of a Hash object; an older Node 20 falls back to the object. Both
 * hash a string as its UTF-8 bytes.
 */
const oneShot = (crypto as Partial<typeof crypto>).hash;

/** SHA-256 of a text's UTF-8 bytes, as lowercase hex. */
export function sha256Hex(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

/** SHA-256 of a text's UTF-8 bytes, as 32 bytes. */
export function sha256Bytes(text: string): Buffer {
  return oneShot ? oneShot('sha256', text, 'buffer') : crypto.createHash('sha256').update(text).digest();
}
