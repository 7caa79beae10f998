import type { Seal } from './seal';

/**
 * One seal's rows summed up where they are stored (see SealDigestQuery):
 * how many there are, how many hash to something else than their row_hash,
 * whether their chain indexes run 0..n-1 and each links to the one before,
 * and the values the seal must match.
 */
export interface SealDigest {
  seal_seq: number;
  rows: number;
  bad_hashes: number;
  indexes_ok: boolean;
  links_ok: boolean;
  first_previous_hash: string;
  last_hash: string;
  rows_root: string;
}

/**
 * True when the digest shows every row of the seal present, unchanged and
 * linked, exactly as SealRowsCheck would find them one by one. Anything else
 * is for SealRowsCheck to explain: it names the row.
 */
export function digestHolds(seal: Seal, digest: SealDigest): boolean {
  return (
    digest.rows === seal.row_count &&
    digest.bad_hashes === 0 &&
    digest.indexes_ok &&
    digest.links_ok &&
    digest.first_previous_hash === seal.first_previous_hash &&
    digest.last_hash === seal.last_hash &&
    digest.rows_root === seal.rows_root
  );
}
