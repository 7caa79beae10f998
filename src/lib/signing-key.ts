import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The Ed25519 key that signs seals (and reports). From SIGNING_KEY_FILE, or
 * generated on first start as $DATA_DIR/keys/signing-key.pem (mode 0600).
 * Only the public half ever leaves the machine (`auditflow keys export-public`).
 */
export class SigningKey {
  readonly keyId: string;
  readonly publicKeyPem: string;

  private constructor(
    private readonly privateKey: KeyObject,
    readonly publicKey: KeyObject,
  ) {
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.keyId = keyIdOf(publicKey);
  }

  static load(configuredFile: string | undefined, keysDir: string): SigningKey {
    const file = configuredFile ?? path.join(keysDir, 'signing-key.pem');
    if (!fs.existsSync(file)) {
      if (configuredFile) throw new Error(`SIGNING_KEY_FILE ${configuredFile} does not exist`);
      fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
      const { privateKey } = generateKeyPairSync('ed25519');
      try {
        fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      } catch (error) {
        // Another process generated it first: use theirs.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    const privateKey = createPrivateKey(fs.readFileSync(file));
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 private key`);
    return new SigningKey(privateKey, createPublicKey(privateKey));
  }

  /** Base64 Ed25519 signature of a text (a hex hash). */
  sign(text: string): string {
    return sign(null, Buffer.from(text), this.privateKey).toString('base64');
  }
}

/** The half of the signing key that may be shown: what the API needs to check reports. */
export type PublicSigningKey = Pick<SigningKey, 'publicKey' | 'publicKeyPem' | 'keyId'>;

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function verifySignature(publicKey: KeyObject, text: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(text), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
