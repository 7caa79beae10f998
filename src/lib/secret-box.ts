import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createFileOnce } from './key-file';

/**
 * AES-256-GCM for secrets at rest (encrypted system settings). The stored
 * form is `v1:<iv>:<tag>:<ciphertext>` in base64url, so a tampered value
 * fails to decrypt instead of reading as garbage.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
  }

  /** The key from config, or one generated on first start and kept under `keysDir` (mode 0600). */
  static fromConfig(configured: string | undefined, keysDir: string): SecretBox {
    if (configured) return new SecretBox(Buffer.from(configured, /^[0-9a-f]{64}$/i.test(configured) ? 'hex' : 'base64'));
    const file = path.join(keysDir, 'settings.key');
    try {
      return new SecretBox(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    // Another process may write it at the same moment: then use theirs.
    return createFileOnce(file, key.toString('base64')) ? new SecretBox(key) : SecretBox.fromConfig(undefined, keysDir);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
  }

  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split(':');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }
}
