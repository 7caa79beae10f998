import fc from 'fast-check';
import { checkedPrune, sealBreak } from '../../src/domain/chain-check';
import { sha256Hex } from '../../src/domain/sha256';
import { rowHash } from '../../src/domain/row-hash';
import { chainRows, GENESIS, pruneHash, rowsRoot, sealHash, type PruneRecord, type Seal } from '../../src/domain/seal';
import { KeyRing } from '../../src/lib/key-ring';
import { auditRow, newKey, resealed, sealedChain } from './support/sealed-chain';

const TABLE = 'audit_logs';
const key = newKey();
const other = newKey();
const batch = [auditRow(1), auditRow(2), auditRow(3)];

describe('chaining a batch of rows', () => {
  const { rows, seal } = chainRows(TABLE, batch, GENESIS, '2026-11-22 03:40:00.000', key.keyId);

  it('links each row to the one before, the first one to the chain head', () => {
    expect(rows.map((r) => r.chain_index)).toEqual([0, 1, 2]);
    expect(rows.map((r) => r.seal_seq)).toEqual([1, 1, 1]);
    expect(rows[0]!.previous_hash).toBe('');
    expect(rows[1]!.previous_hash).toBe(rows[0]!.row_hash);
    expect(rows[2]!.previous_hash).toBe(rows[1]!.row_hash);
    rows.forEach((r, i) => {
      expect(r.row_hash).toBe(rowHash(TABLE, batch[i]!));
    });
  });

  it('closes them with a seal over their count, their last hash and the root of their hashes', () => {
    expect(seal).toMatchObject({ table_name: TABLE, seq: 1, row_count: 3, first_previous_hash: '', previous_seal_hash: '', last_hash: rows[2]!.row_hash, key_id: key.keyId });
    expect(seal.rows_root).toBe(sha256Hex(rows.map((r) => r.row_hash).join('\n')));
    const { seal_hash: _h, ...fields } = seal;
    expect(seal.seal_hash).toBe(sealHash(fields));
  });

  it('continues the chain from the head the last seal left', () => {
    const head = { seq: 1, sealHash: seal.seal_hash, lastRowHash: seal.last_hash, sealedAt: seal.sealed_at };
    const next = chainRows(TABLE, [auditRow(4)], head, '2026-11-22 03:41:00.000', key.keyId);
    expect(next.seal).toMatchObject({ seq: 2, first_previous_hash: seal.last_hash, previous_seal_hash: seal.seal_hash, row_count: 1 });
    expect(next.rows[0]).toMatchObject({ previous_hash: seal.last_hash, seal_seq: 2, chain_index: 0 });
  });

  it('leaves the rows it was given untouched', () => {
    expect(batch[0]).not.toHaveProperty('row_hash');
    expect(rows[0]).toMatchObject(batch[0]!);
  });

  it('seals an empty batch as zero rows that end where the chain stood', () => {
    const head = { seq: 4, sealHash: 'h4', lastRowHash: 'r4', sealedAt: '' };
    const empty = chainRows(TABLE, [], head, '2026-11-22 03:42:00.000', key.keyId);
    expect(empty.rows).toEqual([]);
    expect(empty.seal).toMatchObject({ seq: 5, row_count: 0, first_previous_hash: 'r4', last_hash: 'r4', rows_root: rowsRoot([]) });
  });
});

describe('a seal hash', () => {
  const [seal] = sealedChain(TABLE, [batch], key).seals as [Seal];
  const { seal_hash: _h, signature: _s, ...fields } = seal;

  it('changes when any signed field changes', () => {
    const names = Object.keys(fields) as (keyof typeof fields)[];
    expect(names.sort()).toEqual(['first_previous_hash', 'key_id', 'last_hash', 'previous_seal_hash', 'row_count', 'rows_root', 'sealed_at', 'seq', 'table_name']);
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.oneof(fc.string(), fc.nat()), (name, value) => {
        fc.pre(value !== fields[name]);
        expect(sealHash({ ...fields, [name]: value })).not.toBe(seal.seal_hash);
      }),
    );
  });

  it('does not depend on the key order of the record it is computed from', () => {
    const reversed = Object.fromEntries(Object.entries(fields).reverse()) as typeof fields;
    expect(sealHash(reversed)).toBe(seal.seal_hash);
  });
});

describe('a seal signature', () => {
  const [seal] = sealedChain(TABLE, [batch], key).seals as [Seal];

  it('verifies with the key that made it', () => {
    expect(sealBreak(TABLE, seal, null, KeyRing.of(key.publicKey))).toBeNull();
  });

  it('still verifies after a key rotation, while the old key is kept as retired', () => {
    expect(sealBreak(TABLE, seal, null, KeyRing.of(other.publicKey, key.publicKey))).toBeNull();
  });

  it('does not verify with another key', () => {
    expect(sealBreak(TABLE, seal, null, KeyRing.of(other.publicKey))).toEqual({
      kind: 'bad_signature',
      table: TABLE,
      seal_seq: 1,
      event_id: null,
      detail: `seal 1 has a signature by an unknown key (neither the current key nor one in $KEYS_DIR/retired) (key ${key.keyId})`,
    });
  });

  it('does not verify when it names another key the ring holds', () => {
    const claimed = resealed(seal, { key_id: other.keyId }, key);
    expect(sealBreak(TABLE, claimed, null, KeyRing.of(key.publicKey, other.publicKey))).toMatchObject({
      kind: 'bad_signature',
      detail: `seal 1 has an invalid signature (key ${other.keyId})`,
    });
  });

  it('does not verify once one byte of it changes', () => {
    const bytes = Buffer.from(seal.signature, 'base64');
    bytes[10] = bytes[10]! ^ 0x01;
    expect(sealBreak(TABLE, { ...seal, signature: bytes.toString('base64') }, null, KeyRing.of(key.publicKey))).toMatchObject({ kind: 'bad_signature' });
    expect(sealBreak(TABLE, { ...seal, signature: 'not base64 at all' }, null, KeyRing.of(key.publicKey))).toMatchObject({ kind: 'bad_signature' });
  });

  it('is over the seal hash: a seal whose fields no longer match its hash is modified, whoever signed it', () => {
    expect(sealBreak(TABLE, { ...seal, row_count: 2 }, null, KeyRing.of(key.publicKey))).toMatchObject({
      kind: 'seal_modified',
      seal_seq: 1,
      detail: 'seal 1 does not match its own hash',
    });
  });

  it('made with an attacker key over a rewritten seal does not verify', () => {
    const attacker = newKey();
    const forged = resealed(seal, { row_count: 2, key_id: key.keyId }, attacker);
    expect(sealBreak(TABLE, forged, null, KeyRing.of(key.publicKey))).toMatchObject({ kind: 'bad_signature', detail: `seal 1 has an invalid signature (key ${key.keyId})` });
  });
});

describe('a retention prune record', () => {
  const fields = { table_name: TABLE, up_to_seq: 12, rows_pruned: 3400, cutoff: '2025-11-22 00:00:00.000', pruned_at: '2026-11-22 04:00:00.000', policy_days: 365, key_id: key.keyId };
  const hash = pruneHash(fields);
  const record: PruneRecord = { ...fields, prune_hash: hash, signature: key.sign(hash) };
  const ring = KeyRing.of(key.publicKey);

  it('is valid when signed by a known key', () => {
    expect(checkedPrune(record, ring)).toEqual({ record, valid: true });
  });

  it('reads the numbers ClickHouse sends as strings (UInt64) as numbers', () => {
    const asRead = { ...record, up_to_seq: '12', rows_pruned: '3400', policy_days: '365' } as unknown as PruneRecord;
    expect(checkedPrune(asRead, ring)).toEqual({ record, valid: true });
  });

  it('is invalid once a number in it is changed, say to claim more seals were pruned', () => {
    expect(checkedPrune({ ...record, up_to_seq: 13 }, ring).valid).toBe(false);
    expect(checkedPrune({ ...record, rows_pruned: 3401 }, ring).valid).toBe(false);
  });

  it('is invalid when signed by another key, even with a matching hash', () => {
    expect(checkedPrune({ ...record, signature: other.sign(hash) }, ring).valid).toBe(false);
    expect(checkedPrune(record, KeyRing.of(other.publicKey)).valid).toBe(false);
  });
});
