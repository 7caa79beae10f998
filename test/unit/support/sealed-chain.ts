import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { ChainRow } from '../../../src/domain/chain-check';
import type { ClickHouseRow } from '../../../src/domain/event-row';
import { chainRows, GENESIS, sealHash, type ChainHead, type Seal } from '../../../src/domain/seal';
import { keyIdOf } from '../../../src/lib/signing-key';
import { ingestedRow } from './events';

/** An Ed25519 key pair held in memory, signing as SigningKey does (base64 over the hash text). */
export interface TestKey {
  keyId: string;
  publicKey: KeyObject;
  sign(text: string): string;
}

export function newKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { keyId: keyIdOf(publicKey), publicKey, sign: (text) => sign(null, Buffer.from(text), privateKey).toString('base64') };
}

/** The n-th audit event of a fixture: a profile change with nested values, as in the integrity test. */
export function auditRow(n: number): ClickHouseRow {
  const id = `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  return ingestedRow({
    kind: 'audit',
    event_type: 'profile_updated',
    event_id: id,
    user_id: `user-${n}`,
    occurred_at: '2026-11-22T03:37:49.948Z',
    previous_value: { name: `before ${n}`, 'deep.key': n },
    new_value: { name: `after ${n}`, n: n + 0.5, ok: true, list: [n, n + 1] },
    ip_address: '203.0.113.7',
  });
}

/** A table's chain as the writer leaves it: each batch chained after the one before, sealed and signed. */
export function sealedChain(table: string, batches: ClickHouseRow[][], key: TestKey): { seals: Seal[]; rows: ChainRow[][] } {
  let head: ChainHead = GENESIS;
  const seals: Seal[] = [];
  const rows: ChainRow[][] = [];
  batches.forEach((batch, i) => {
    const chained = chainRows(table, batch, head, `2026-11-22 03:4${i}:00.000`, key.keyId);
    const seal: Seal = { ...chained.seal, signature: key.sign(chained.seal.seal_hash) };
    seals.push(seal);
    rows.push(chained.rows as unknown as ChainRow[]);
    head = { seq: seal.seq, sealHash: seal.seal_hash, lastRowHash: seal.last_hash, sealedAt: seal.sealed_at };
  });
  return { seals, rows };
}

/** The seal after `change`, its hash recomputed to match and signed by `key`: a forgery as good as that key makes it. */
export function resealed(seal: Seal, change: Partial<Seal>, key: TestKey): Seal {
  const { seal_hash: _h, signature: _s, ...fields } = { ...seal, ...change };
  const hash = sealHash(fields);
  return { ...fields, seal_hash: hash, signature: key.sign(hash) };
}
