import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../../domain/sha256';

/** A 256-bit random, URL-safe secret and the SHA-256 under which it is stored. */
export function newSecret(prefix = ''): { token: string; hash: string } {
  const token = `${prefix}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashSecret(token) };
}

export function hashSecret(token: string): string {
  return sha256Hex(token);
}
