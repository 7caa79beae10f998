import { createPublicKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { keyIdOf, RETIRED_KEYS_DIR, verifySignature } from './signing-key';

/**
 * The public keys a seal, prune record or report may be signed with: the
 * current signing key and every retired one (`$KEYS_DIR/retired/*.pem`).
 * Each is named by its own key id (the hash of the key, not the file name),
 * and a signature is checked only with the key its record names, so
 * verification stays green across a key rotation.
 */
export class KeyRing {
  private constructor(private readonly keys: ReadonlyMap<string, KeyObject>) {}

  static of(...publicKeys: KeyObject[]): KeyRing {
    return new KeyRing(new Map(publicKeys.map((key) => [keyIdOf(key), key])));
  }

  /** The current key, and the retired ones under `keysDir`. A file there that is not a key fails the start. */
  static load(current: KeyObject, keysDir: string): KeyRing {
    const dir = path.join(keysDir, RETIRED_KEYS_DIR);
    const files = fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((f) => f.endsWith('.pem'))
          .sort()
      : [];
    const retired = files.map((file) => {
      const key = createPublicKey(fs.readFileSync(path.join(dir, file)));
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path.join(dir, file)} is not an Ed25519 key`);
      return key;
    });
    return KeyRing.of(current, ...retired);
  }

  get(keyId: string): KeyObject | undefined {
    return this.keys.get(keyId);
  }

  ids(): string[] {
    return [...this.keys.keys()];
  }

  /** Whether `signature` is over `text` by the key `keyId` names; false for a key this ring does not hold. */
  verify(keyId: string, text: string, signature: string): boolean {
    const key = this.keys.get(keyId);
    return key !== undefined && verifySignature(key, text, signature);
  }
}
