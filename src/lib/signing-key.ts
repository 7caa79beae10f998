import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from './errors/app-error';
import { createFileOnce, replaceFile } from './key-file';

const KEY_FILE = 'signing-key.pem';
/** Under KEYS_DIR: the public halves of rotated-out keys (KeyRing reads them). */
export const RETIRED_KEYS_DIR = 'retired';

const newPrivateKeyPem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });

/** What `auditflow keys rotate` did. */
export interface KeyRotation {
  retiredKeyId: string;
  /** Where the retired public key is kept, so old seals and reports still verify. */
  retiredFile: string;
  keyId: string;
}

/**
 * The Ed25519 key that signs seals (and reports). From SIGNING_KEY_FILE, or
 * generated on first start as $KEYS_DIR/signing-key.pem (mode 0600).
 * Only the public half ever leaves the machine (`auditflow keys export-public`).
 * Retired keys' public halves stay in $KEYS_DIR/retired (see KeyRing).
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
    const file = configuredFile ?? path.join(keysDir, KEY_FILE);
    if (!fs.existsSync(file)) {
      if (configuredFile) throw new Error(`SIGNING_KEY_FILE ${configuredFile} does not exist`);
      fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
      // Another process may generate it at the same moment: the first one's key is everyone's.
      createFileOnce(file, newPrivateKeyPem());
    }
    const privateKey = createPrivateKey(fs.readFileSync(file));
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 private key`);
    return new SigningKey(privateKey, createPublicKey(privateKey));
  }

  /**
   * Replaces the generated key with a new one, keeping the old public half in
   * $KEYS_DIR/retired/<key id>.pem. Processes sign with the key they loaded at
   * start, so every role must restart to sign with the new one.
   */
  static rotate(keysDir: string): KeyRotation {
    const old = SigningKey.load(undefined, keysDir);
    const retiredDir = path.join(keysDir, RETIRED_KEYS_DIR);
    fs.mkdirSync(retiredDir, { recursive: true, mode: 0o700 });
    const retiredFile = path.join(retiredDir, `${old.keyId}.pem`);
    // The public half first: if the replacement fails, nothing is lost.
    createFileOnce(retiredFile, old.publicKeyPem);
    replaceFile(path.join(keysDir, KEY_FILE), newPrivateKeyPem());
    return { retiredKeyId: old.keyId, retiredFile, keyId: SigningKey.load(undefined, keysDir).keyId };
  }

  /** Base64 Ed25519 signature of a text (a hex hash). */
  sign(text: string): string {
    return sign(null, Buffer.from(text), this.privateKey).toString('base64');
  }
}

/** The half of the signing key that may be shown: what the API needs to check reports. */
export type PublicSigningKey = Pick<SigningKey, 'publicKey' | 'publicKeyPem' | 'keyId'>;

/**
 * The Ed25519 public key in a PEM file an officer was given (`keys
 * export-public`), or an error that says what is wrong with the file:
 * OpenSSL's own message (`DECODER routines::unsupported`) tells them nothing.
 */
export function readPublicKeyFile(file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(fs.readFileSync(file));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not a public key in PEM';
    throw new AppError('VALIDATION_FAILED', `--public-key ${file}: ${reason} (export one with \`auditflow keys export-public\`)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new AppError('VALIDATION_FAILED', `--public-key ${file}: a ${key.asymmetricKeyType} key, but reports and seals are signed with Ed25519`);
  return key;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

export function verifySignature(publicKey: KeyObject, text: string, signature: string): boolean {
  try {
    // Base64 decoding skips what is not base64 and stops at padding: only the spelling sign() writes is taken,
    // or text added to a signature (which no hash covers) would still verify.
    if (typeof signature !== 'string') return false;
    const bytes = Buffer.from(signature, 'base64');
    if (bytes.toString('base64') !== signature) return false;
    return verify(null, Buffer.from(text), publicKey, bytes);
  } catch {
    return false;
  }
}
