import { chainRows, type ChainedRow, type Seal } from '../domain/seal';
import { toClickHouseTime, type ClickHouseRow } from '../domain/event-row';
import type { SigningKey } from '../lib/signing-key';
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
  constructor(
    private readonly seals: SealRepository,
    private readonly key: SigningKey,
  ) {}

  async seal(table: string, rows: ClickHouseRow[]): Promise<{ rows: (ClickHouseRow & ChainedRow)[]; seal: Seal }> {
    await this.settlePending(table);
    const head = await this.seals.head(table);
    const { rows: chained, seal: unsigned } = chainRows(table, rows, head, toClickHouseTime(new Date()), this.key.keyId);
    const seal: Seal = { ...unsigned, signature: this.key.sign(unsigned.seal_hash) };
    await this.seals.insertPending(seal);
    // auth_audit_log keeps seed 003's per-row `signature`: the signature of the row's seal.
    const out = table === 'auth_audit_log' ? chained.map((r) => ({ ...r, signature: seal.signature })) : chained;
    return { rows: out, seal };
  }

  finalize(seal: Seal): Promise<void> {
    return this.seals.finalize(seal);
  }

  discard(seal: Seal): Promise<void> {
    return this.seals.discard(seal);
  }

  private async settlePending(table: string): Promise<void> {
    for (const seal of await this.seals.pending(table)) {
      const stored = await this.seals.rowsUnder(table, seal.seq);
      if (stored === seal.row_count) await this.seals.finalize(seal);
      else if (stored === 0) await this.seals.discard(seal);
      else throw new Error(`seal ${table}#${seal.seq} holds ${stored} of its ${seal.row_count} rows; refusing to extend a broken chain`);
    }
  }
}
