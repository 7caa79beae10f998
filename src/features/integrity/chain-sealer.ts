import { chainRows, sealTime, type ChainHead, type ChainedRow, type Seal } from '../../domain/seal';
import { toClickHouseTime, type ClickHouseRow } from '../../domain/event-row';
import type { SigningKey } from '../../lib/signing-key';
import type { SealRepository } from './seal.repository';

/**
 * Seals each flush: links its rows into the table's hash chain and signs a
 * seal over them. The caller (the ClickHouse writer) holds the table's flush
 * lock, so one table's chain is extended by one flush at a time, across
 * processes as well.
 *
 * Crash safety: the seal is stored as pending before its rows are inserted,
 * and made final after. A pending seal found at the next flush is settled by
 * what ClickHouse holds: all its rows → final; none → dropped (the rows will
 * come again with their job's retry and get a new seal).
 */
export class ChainSealer {
  /** Chain heads this process knows to be current (only kept when it is the only writer). */
  private readonly heads = new Map<string, ChainHead>();

  constructor(
    private readonly seals: SealRepository,
    private readonly key: SigningKey,
    /**
     * True when no other process writes these tables (the embedded default):
     * the head of each chain is then read from PostgreSQL once and kept, which
     * saves three round trips per flush. With shared ClickHouse, always re-read.
     */
    private readonly exclusive = false,
  ) {}

  async seal(table: string, rows: ClickHouseRow[]): Promise<{ rows: (ClickHouseRow & ChainedRow)[]; seal: Seal }> {
    let head = this.exclusive ? this.heads.get(table) : undefined;
    if (!head) {
      await this.settlePending(table);
      head = await this.seals.head(table);
    }
    const { rows: chained, seal: unsigned } = chainRows(table, rows, head, sealTime(toClickHouseTime(new Date()), head.sealedAt), this.key.keyId);
    const seal: Seal = { ...unsigned, signature: this.key.sign(unsigned.seal_hash) };
    await this.seals.insertPending(seal);
    this.heads.set(table, { seq: seal.seq, sealHash: seal.seal_hash, lastRowHash: seal.last_hash, sealedAt: seal.sealed_at });
    // auth_audit_log keeps the seed's per-row `signature` (docs/data-model.md): the signature of the row's seal.
    // chainRows' rows are copies of the caller's, so they are set in place.
    if (table === 'auth_audit_log') for (const row of chained) row.signature = seal.signature;
    return { rows: chained, seal };
  }

  /** Copies the seal beside its rows and marks it final. If that fails, the next flush re-reads and settles. */
  async finalize(seal: Seal): Promise<void> {
    try {
      await this.seals.finalize(seal, { checkExisting: false });
    } catch (error) {
      this.heads.delete(seal.table_name);
      throw error;
    }
  }

  async discard(seal: Seal): Promise<void> {
    this.heads.delete(seal.table_name);
    await this.seals.discard(seal);
  }

  /** Forgets a table's cached head (after a failed flush whose seal state is unknown). */
  forget(table: string): void {
    this.heads.delete(table);
  }

  private async settlePending(table: string): Promise<void> {
    for (const seal of await this.seals.pending(table)) {
      const stored = await this.seals.rowsUnder(table, seal.seq);
      if (stored === seal.row_count) await this.seals.finalize(seal, { checkExisting: true });
      else if (stored === 0) await this.seals.discard(seal);
      else throw new Error(`seal ${table}#${seal.seq} holds ${stored} of its ${seal.row_count} rows; refusing to extend a broken chain`);
    }
  }
}
