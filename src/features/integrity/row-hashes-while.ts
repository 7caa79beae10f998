import { setImmediate as nextTurn } from 'node:timers/promises';
import { rowHash } from '../../domain/row-hash';

/** Rows hashed between turns of the event loop: small enough that other work is not held up for long. */
const CHUNK = 256;

/**
 * Computes the row hashes of `rows` while `pending` (a query the store runs
 * on its own threads) is under way, and stops early once it settles: the
 * sealer then has fewer hashes left to compute after it, and a flush's
 * duplicate check and its hashing overlap instead of following each other.
 * Yields to the event loop between chunks, so the query is sent and its
 * answer handled without waiting for the hashing.
 */
export async function rowHashesWhile(table: string, rows: readonly Record<string, unknown>[], pending: Promise<unknown>): Promise<Map<object, string>> {
  let settled = false;
  pending.then(
    () => (settled = true),
    () => (settled = true),
  );
  const hashes = new Map<object, string>();
  for (let start = 0; start < rows.length && !settled; start += CHUNK) {
    await nextTurn();
    for (const row of rows.slice(start, start + CHUNK)) hashes.set(row, rowHash(table, row));
  }
  return hashes;
}
