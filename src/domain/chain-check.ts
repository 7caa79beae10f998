import type { KeyRing } from '../lib/key-ring';
import { duplicateMember } from '../lib/json-duplicate-members';
import { rowHash } from './row-hash';
import { pruneHash, rowsRoot, sealHash, type PruneRecord, type Seal } from './seal';

export type BreakKind = 'row_modified' | 'row_deleted' | 'row_inserted' | 'seal_missing' | 'seal_reordered' | 'seal_modified' | 'bad_signature';

/** The first place a table's chain does not hold. */
export interface ChainBreak {
  kind: BreakKind;
  table: string;
  seal_seq: number | null;
  event_id: string | null;
  detail: string;
}

/** A row as ClickHouse gives it back (JSONEachRow), with the chain columns as numbers. */
export type ChainRow = Record<string, unknown> & { event_id: string; row_hash: string; previous_hash: string; seal_seq: number; chain_index: number };

/**
 * A seal on its own: its hash, its signature and its link to the seal before
 * (`previous`, null when it is the first one checked). Null when it holds.
 */
export function sealBreak(table: string, seal: Seal, previous: Seal | null, keys: KeyRing): ChainBreak | null {
  const at = { table, seal_seq: seal.seq, event_id: null };
  const { seal_hash: _h, signature: _s, ...fields } = seal;
  if (sealHash(fields) !== seal.seal_hash) return { kind: 'seal_modified', ...at, detail: `seal ${seal.seq} does not match its own hash` };
  if (!keys.verify(seal.key_id, seal.seal_hash, seal.signature)) {
    const why = keys.get(seal.key_id) ? 'an invalid signature' : 'a signature by an unknown key (neither the current key nor one in $KEYS_DIR/retired)';
    return { kind: 'bad_signature', ...at, detail: `seal ${seal.seq} has ${why} (key ${seal.key_id})` };
  }
  if (previous && (seal.previous_seal_hash !== previous.seal_hash || seal.first_previous_hash !== previous.last_hash)) {
    return { kind: 'seal_reordered', ...at, detail: `seal ${seal.seq} does not follow seal ${previous.seq}` };
  }
  if (!previous && seal.seq === 1 && (seal.previous_seal_hash !== '' || seal.first_previous_hash !== '')) return { kind: 'seal_reordered', ...at, detail: 'seal 1 claims a predecessor' };
  return null;
}

/**
 * Checks one seal's rows, fed in chain order, one at a time: each row's
 * hash and link, then (at `end`) the count and the root. Rows need not be
 * held together, so a caller can stream them.
 */
export class SealRowsCheck {
  private index = 0;
  private previousHash: string;
  private readonly hashes: string[] = [];

  constructor(
    private readonly table: string,
    private readonly seal: Seal,
  ) {
    this.previousHash = seal.first_previous_hash;
  }

  /** The break this row shows, or null. */
  add(row: ChainRow): ChainBreak | null {
    const { table, seal, index } = this;
    const at = { table, seal_seq: seal.seq, event_id: row.event_id };
    if (row.chain_index > index) return { kind: 'row_deleted', ...at, detail: `seal ${seal.seq} is missing row ${index} (the chain resumes at ${row.event_id})` };
    if (row.chain_index < index || index >= seal.row_count) return { kind: 'row_inserted', ...at, detail: `row ${row.event_id} is not one of seal ${seal.seq}'s ${seal.row_count} rows` };
    if (rowHash(table, row) !== row.row_hash) return { kind: 'row_modified', ...at, detail: `row ${row.event_id} was changed after it was sealed` };
    if (row.previous_hash !== this.previousHash) return { kind: 'row_modified', ...at, detail: `row ${row.event_id} does not link to the row before it` };
    this.previousHash = row.row_hash;
    this.hashes.push(row.row_hash);
    this.index++;
    return null;
  }

  /** Rows added so far. */
  get rows(): number {
    return this.index;
  }

  /** After the last row: were they all there, and do they add up to the seal? */
  end(): ChainBreak | null {
    const { table, seal } = this;
    if (this.index < seal.row_count)
      return { kind: 'row_deleted', table, seal_seq: seal.seq, event_id: null, detail: `seal ${seal.seq} holds ${this.index} of its ${seal.row_count} rows (the last ones are gone)` };
    if (rowsRoot(this.hashes) !== seal.rows_root || this.previousHash !== seal.last_hash) {
      return { kind: 'row_modified', table, seal_seq: seal.seq, event_id: null, detail: `the rows of seal ${seal.seq} do not add up to its root` };
    }
    return null;
  }
}

/** A row whose text holds a key twice: the parsed row, which was hashed, lacks the first value (duplicateMember). */
export function twiceHeld(table: string, row: ChainRow, text: string): ChainBreak | null {
  const key = duplicateMember(text);
  return key === null
    ? null
    : { kind: 'row_modified', table, seal_seq: row.seal_seq, event_id: row.event_id, detail: `row ${row.event_id} holds two values under the key ${JSON.stringify(key)}, and only one was sealed` };
}

/** A prune record as ClickHouse gives it back, with its numbers as numbers, and whether it is validly signed. */
export function checkedPrune(raw: PruneRecord, keys: KeyRing): { record: PruneRecord; valid: boolean } {
  const record = { ...raw, up_to_seq: Number(raw.up_to_seq), rows_pruned: Number(raw.rows_pruned), policy_days: Number(raw.policy_days) };
  const { prune_hash: _h, signature: _s, ...fields } = record;
  return { record, valid: pruneHash(fields) === record.prune_hash && keys.verify(record.key_id, record.prune_hash, record.signature) };
}
