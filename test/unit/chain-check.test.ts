import fc from 'fast-check';
import { sealBreak, SealRowsCheck, type ChainBreak, type ChainRow } from '../../src/domain/chain-check';
import { rowHash } from '../../src/domain/row-hash';
import { rowsRoot, type Seal } from '../../src/domain/seal';
import { KeyRing } from '../../src/lib/key-ring';
import { auditRow, newKey, resealed, sealedChain } from './support/sealed-chain';

const TABLE = 'audit_logs';
const key = newKey();
const keys = KeyRing.of(key.publicKey);

/** Three seals of 4, 3 and 5 rows, built once; each test tampers with a copy of its own. */
const pristine = (() => {
  let n = 0;
  const batch = (size: number) => Array.from({ length: size }, () => auditRow(++n));
  return sealedChain(TABLE, [batch(4), batch(3), batch(5)], key);
})();
const chain = () => structuredClone(pristine);

/**
 * The first break, checking seals and rows in the order the integrity
 * verifier does: each seal on its own and against the one before, then its
 * rows one by one, then their count and root.
 */
function firstBreak(seals: Seal[], rows: ChainRow[][]): ChainBreak | null {
  let previous: Seal | null = null;
  for (const [i, seal] of seals.entries()) {
    const broken = sealBreak(TABLE, seal, previous, keys);
    if (broken) return broken;
    const check = new SealRowsCheck(TABLE, seal);
    for (const row of rows[i]!) {
      const rowBroken = check.add(row);
      if (rowBroken) return rowBroken;
    }
    const endBroken = check.end();
    if (endBroken) return endBroken;
    previous = seal;
  }
  return null;
}

/** `text` with the byte at `at` changed (ASCII fixtures: one character is one byte). */
function flipByte(text: string, at: number): string {
  const bytes = Buffer.from(text, 'utf8');
  bytes[at] = bytes[at]! ^ 0x01;
  return bytes.toString('utf8');
}

describe('an untouched chain', () => {
  it('holds, seal after seal', () => {
    const { seals, rows } = chain();
    expect(firstBreak(seals, rows)).toBeNull();
  });

  it('counts the rows of each seal as they are checked', () => {
    const { seals, rows } = chain();
    const check = new SealRowsCheck(TABLE, seals[1]!);
    for (const row of rows[1]!) check.add(row);
    expect(check.rows).toBe(3);
    expect(check.end()).toBeNull();
  });
});

describe('a row changed after it was sealed', () => {
  it('breaks at that row, whichever byte of whichever column changed', () => {
    fc.assert(
      fc.property(fc.nat(2), fc.nat(10), fc.constantFrom('event_type', 'user_id', 'occurred_at', 'source_app', 'ip_address', 'content_hash'), fc.nat(), (s, r, column, at) => {
        const { seals, rows } = chain();
        const row = rows[s]![r % rows[s]!.length]!;
        const value = String(row[column]);
        row[column] = flipByte(value, at % value.length);
        expect(firstBreak(seals, rows)).toEqual({
          kind: 'row_modified',
          table: TABLE,
          seal_seq: s + 1,
          event_id: row.event_id,
          detail: `row ${row.event_id} was changed after it was sealed`,
        });
      }),
      { numRuns: 60 },
    );
  });

  it('breaks at that row when one byte deep inside a JSON value changes', () => {
    const { seals, rows } = chain();
    const row = rows[1]![2]!;
    row.new_value = { ...(row.new_value as object), name: flipByte('after 7', 3) };
    expect(firstBreak(seals, rows)).toMatchObject({ kind: 'row_modified', seal_seq: 2, event_id: row.event_id });
  });

  it('breaks at the next row when its hash was recomputed to match', () => {
    const { seals, rows } = chain();
    const row = rows[0]![1]!;
    row.user_id = 'someone-else';
    row.row_hash = rowHash(TABLE, row);
    expect(firstBreak(seals, rows)).toEqual({
      kind: 'row_modified',
      table: TABLE,
      seal_seq: 1,
      event_id: rows[0]![2]!.event_id,
      detail: `row ${rows[0]![2]!.event_id} does not link to the row before it`,
    });
  });

  it('breaks at its seal when it was the last row and its hash was recomputed', () => {
    const { seals, rows } = chain();
    const last = rows[2]![4]!;
    last.user_id = 'someone-else';
    last.row_hash = rowHash(TABLE, last);
    expect(firstBreak(seals, rows)).toEqual({ kind: 'row_modified', table: TABLE, seal_seq: 3, event_id: null, detail: 'the rows of seal 3 do not add up to its root' });
  });

  it('cannot be hidden by rewriting the whole seal without the signing key', () => {
    const { seals, rows } = chain();
    const seal = seals[0]!;
    const rewritten = rows[0]!.map((row) => ({ ...row, user_id: 'someone-else' }));
    let previous = seal.first_previous_hash;
    for (const row of rewritten) {
      row.previous_hash = previous;
      row.row_hash = previous = rowHash(TABLE, row);
    }
    rows[0] = rewritten;
    // The rows are consistent again; their seal's root and last hash no longer are.
    expect(firstBreak(seals, rows)).toMatchObject({ kind: 'row_modified', seal_seq: 1, detail: 'the rows of seal 1 do not add up to its root' });
    // Updating the seal without its signature: its hash no longer matches.
    seals[0] = { ...seal, rows_root: rowsRoot(rewritten.map((r) => r.row_hash)), last_hash: previous };
    expect(firstBreak(seals, rows)).toMatchObject({ kind: 'seal_modified', seal_seq: 1 });
    // Re-signing with a key of one's own: the signature is not the deployment's.
    seals[0] = resealed(seals[0], {}, newKey());
    expect(firstBreak(seals, rows)).toMatchObject({ kind: 'bad_signature', seal_seq: 1 });
  });
});

describe('rows deleted or inserted', () => {
  it('a deleted row breaks where the chain resumes', () => {
    const { seals, rows } = chain();
    const [, gone, resumes] = rows[1]!;
    rows[1]!.splice(1, 1);
    expect(firstBreak(seals, rows)).toEqual({
      kind: 'row_deleted',
      table: TABLE,
      seal_seq: 2,
      event_id: resumes!.event_id,
      detail: `seal 2 is missing row 1 (the chain resumes at ${resumes!.event_id})`,
    });
    expect(gone!.event_id).not.toBe(resumes!.event_id);
  });

  it('deleted last rows break at the end of their seal', () => {
    const { seals, rows } = chain();
    rows[2]!.splice(3);
    expect(firstBreak(seals, rows)).toEqual({ kind: 'row_deleted', table: TABLE, seal_seq: 3, event_id: null, detail: 'seal 3 holds 3 of its 5 rows (the last ones are gone)' });
  });

  it('a seal whose rows are all gone breaks, unless a retention prune says so (the verifier decides that)', () => {
    const { seals, rows } = chain();
    rows[0] = [];
    expect(firstBreak(seals, rows)).toMatchObject({ kind: 'row_deleted', seal_seq: 1, event_id: null, detail: 'seal 1 holds 0 of its 4 rows (the last ones are gone)' });
  });

  it('a row added after a seal was made breaks as inserted', () => {
    const { seals, rows } = chain();
    const last = rows[0]![3]!;
    const extra = { ...last, event_id: 'ffffffff-0000-4000-8000-000000000000', chain_index: 4, previous_hash: last.row_hash } as ChainRow;
    extra.row_hash = rowHash(TABLE, extra);
    rows[0]!.push(extra);
    expect(firstBreak(seals, rows)).toEqual({
      kind: 'row_inserted',
      table: TABLE,
      seal_seq: 1,
      event_id: extra.event_id,
      detail: `row ${extra.event_id} is not one of seal 1's 4 rows`,
    });
  });

  it('a second row claiming a taken place in the chain breaks as inserted', () => {
    const { seals, rows } = chain();
    const copy = { ...rows[1]![0]!, event_id: 'ffffffff-0000-4000-8000-000000000001' };
    rows[1]!.splice(1, 0, copy);
    expect(firstBreak(seals, rows)).toMatchObject({ kind: 'row_inserted', seal_seq: 2, event_id: copy.event_id });
  });

  it('two rows swapped break the link at the first of them', () => {
    const { seals, rows } = chain();
    const [a, b] = [rows[2]![1]!, rows[2]![2]!];
    rows[2]![1] = { ...b, chain_index: 1 };
    rows[2]![2] = { ...a, chain_index: 2 };
    expect(firstBreak(seals, rows)).toMatchObject({ kind: 'row_modified', seal_seq: 3, event_id: b.event_id, detail: `row ${b.event_id} does not link to the row before it` });
  });
});

describe('seals out of place', () => {
  it('a seal that does not follow the one checked before it is reordered', () => {
    const { seals } = chain();
    expect(sealBreak(TABLE, seals[2]!, seals[0]!, keys)).toEqual({ kind: 'seal_reordered', table: TABLE, seal_seq: 3, event_id: null, detail: 'seal 3 does not follow seal 1' });
    expect(sealBreak(TABLE, seals[0]!, seals[1]!, keys)).toMatchObject({ kind: 'seal_reordered', seal_seq: 1 });
  });

  it('a first seal that claims a predecessor is reordered, even when validly signed', () => {
    const { seals } = chain();
    const forged = resealed(seals[0]!, { previous_seal_hash: seals[1]!.seal_hash }, key);
    expect(sealBreak(TABLE, forged, null, keys)).toEqual({ kind: 'seal_reordered', table: TABLE, seal_seq: 1, event_id: null, detail: 'seal 1 claims a predecessor' });
  });

  it('a later seal checked on its own (a verification from a date) is not asked for a predecessor', () => {
    const { seals } = chain();
    expect(sealBreak(TABLE, seals[1]!, null, keys)).toBeNull();
  });

  it('a seal changed in place is modified, before its signature is looked at', () => {
    const { seals, rows } = chain();
    seals[1] = { ...seals[1]!, sealed_at: '2026-11-22 03:41:00.001', signature: 'x' };
    expect(firstBreak(seals, rows)).toEqual({ kind: 'seal_modified', table: TABLE, seal_seq: 2, event_id: null, detail: 'seal 2 does not match its own hash' });
  });
});
