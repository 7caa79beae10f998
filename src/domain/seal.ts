import { canonicalJson } from './canonical-json';
import { sha256Hex } from './sha256';
import { rowHash } from './row-hash';

/** The signed record closing one flush of one table. */
export interface Seal {
  table_name: string;
  /** 1, 2, 3… per table, with no gaps. */
  seq: number;
  row_count: number;
  /** The last row hash of the previous seal: where this seal's chain starts. */
  first_previous_hash: string;
  last_hash: string;
  /** SHA-256 over this seal's row hashes, in chain order. */
  rows_root: string;
  previous_seal_hash: string;
  /** ClickHouse DateTime64 text. */
  sealed_at: string;
  key_id: string;
  seal_hash: string;
  /** Ed25519 over seal_hash, base64. */
  signature: string;
}

/** Where a table's chain stands: the last seal's number, hash, last row hash and time. */
export interface ChainHead {
  seq: number;
  sealHash: string;
  lastRowHash: string;
  /** The last seal's sealed_at ('' before the first). */
  sealedAt: string;
}

export const GENESIS: ChainHead = { seq: 0, sealHash: '', lastRowHash: '', sealedAt: '' };

/**
 * A new seal's sealed_at: the wall clock, but never earlier than the seal
 * before it. `verify --from/--to` (and the monthly report) select seals by
 * sealed_at and expect each range to be a run of consecutive seals; a clock
 * stepped back would otherwise stamp later seals earlier, and a range would
 * report a seal "missing" or skip seals. Both are ClickHouse DateTime64 text
 * of one fixed width, so they compare as strings.
 */
export function sealTime(now: string, previous: string): string {
  return previous > now ? previous : now;
}

export interface ChainedRow {
  row_hash: string;
  previous_hash: string;
  seal_seq: number;
  chain_index: number;
}

export function rowsRoot(hashes: string[]): string {
  return sha256Hex(hashes.join('\n'));
}

/** The hash a seal is signed by: every field but the hash and the signature. */
export function sealHash(seal: Omit<Seal, 'seal_hash' | 'signature'>): string {
  return sha256Hex(
    canonicalJson({
      table_name: seal.table_name,
      seq: seal.seq,
      row_count: seal.row_count,
      first_previous_hash: seal.first_previous_hash,
      last_hash: seal.last_hash,
      rows_root: seal.rows_root,
      previous_seal_hash: seal.previous_seal_hash,
      sealed_at: seal.sealed_at,
      key_id: seal.key_id,
    }),
  );
}

/**
 * Each row's hash, computed ahead of its chain: a row's hash is of its content
 * alone, so the writer hashes a flush's rows while the flush before it still
 * inserts, and chainRows only links them.
 */
export function rowHashes<R extends Record<string, unknown>>(table: string, rows: readonly R[]): ReadonlyMap<R, string> {
  const hashes = new Map<R, string>();
  for (const row of rows) hashes.set(row, rowHash(table, row));
  return hashes;
}

/**
 * Links rows into the table's chain after `head` and builds the seal that
 * closes them (unsigned: the caller signs `seal_hash`). `known`: hashes of
 * these rows from rowHashes; a row missing there is hashed now.
 */
export function chainRows<R extends Record<string, unknown>>(
  table: string,
  rows: R[],
  head: ChainHead,
  sealedAt: string,
  keyId: string,
  known?: ReadonlyMap<R, string>,
): { rows: (R & ChainedRow)[]; seal: Omit<Seal, 'signature'> } {
  const seq = head.seq + 1;
  let previous = head.lastRowHash;
  const hashes: string[] = [];
  const chained = rows.map((row, index) => {
    const hash = known?.get(row) ?? rowHash(table, row);
    // A copy with the chain's columns stored by name: `{ ...row, row_hash, … }` gave every row a
    // hidden class of its own, at 7 µs a row against 0.2 (docs/performance.md).
    const linked = Object.assign({}, row) as R & ChainedRow;
    linked.row_hash = hash;
    linked.previous_hash = previous;
    linked.seal_seq = seq;
    linked.chain_index = index;
    previous = hash;
    hashes.push(hash);
    return linked;
  });
  const unsigned = {
    table_name: table,
    seq,
    row_count: rows.length,
    first_previous_hash: head.lastRowHash,
    last_hash: previous,
    rows_root: rowsRoot(hashes),
    previous_seal_hash: head.sealHash,
    sealed_at: sealedAt,
    key_id: keyId,
  };
  return { rows: chained, seal: { ...unsigned, seal_hash: sealHash(unsigned) } };
}

/** A retention prune: the rows of every seal up to `up_to_seq` were deleted on purpose. */
export interface PruneRecord {
  table_name: string;
  up_to_seq: number;
  rows_pruned: number;
  /** ClickHouse DateTime64 text. */
  cutoff: string;
  pruned_at: string;
  policy_days: number;
  key_id: string;
  prune_hash: string;
  signature: string;
}

export function pruneHash(p: Omit<PruneRecord, 'prune_hash' | 'signature'>): string {
  return sha256Hex(
    canonicalJson({
      table_name: p.table_name,
      up_to_seq: p.up_to_seq,
      rows_pruned: p.rows_pruned,
      cutoff: p.cutoff,
      pruned_at: p.pruned_at,
      policy_days: p.policy_days,
      key_id: p.key_id,
    }),
  );
}
