import { Algorithm, hash, verify } from '@node-rs/argon2';

/** OWASP's Argon2id baseline: 19 MiB of memory, 2 iterations, 1 lane. */
const PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same time as a real check, for logins with an unknown email,
 * so response time does not tell which emails have accounts.
 */
export async function verifyAgainstNothing(password: string): Promise<false> {
  dummyHash ??= hashPassword('auditflow-timing-equaliser');
  await verifyPassword(await dummyHash, password);
  return false;
}
