import { chainRows, sealTime, type ChainHead, type ChainedRow, type Seal } from '../../domain/seal';
import { toClickHouseTime, type ClickHouseRow } from '../../domain/event-row';
import type { SigningKey } from '../../lib/signing-key';
import type { SealRepository } from './seal.repository';

/** Rows linked into their table's chain, and the seal that closes them. */
export interface SealedRows {
  rows: (ClickHouseRow & ChainedRow)[];
  seal: Seal;
}

/**
 * Seals each flush: links its rows into the table's hash chain and signs a
 * seal over them. With a shared server the caller (the ClickHouse writer)
 * holds the table's flush lock, so one table's chain is extended by one flush
 * at a time, across processes as well. An exclusive sealer (the embedded
 * store) may seal a flush while the one before it inserts: the writer then
 * inserts it only if that one inserted exactly what it sealed, and seals it
 * again otherwise.
 *
 * Crash safety: the seal is stored as pending before its rows are inserted,
 * and made final after. A pending seal found at the next flush is settled by
 * what ClickHouse holds: all its rows → final; none → dropped (the rows will
 * come again with their job's retry and get a new seal).
 */
export class ChainSealer {
  /** Chain heads this process knows to be current (only kept when it is the only writer). */
  private readonly heads = new Map<string, ChainHead>();
  /**
   * Per table, how often its head was forgotten. A seal begun before the head was last forgotten does not
   * become the head: the writer seals a flush while the one before it inserts, and if that one then loses
   * its seal (a poison row) and seals again, it must not chain after the later flush's seal.
   */
  private readonly forgotten = new Map<string, number>();
  /** Seals finalize() has been asked for. */
  private readonly finalizing = new WeakSet<Seal>();

  constructor(
    private readonly seals: SealRepository,
    private readonly key: SigningKey,
    /**
     * True when no other process writes these tables (the embedded default):
     * the head of each chain is then read from PostgreSQL once and kept, which
     * saves three round trips per flush. With shared ClickHouse, always re-read.
     */
    readonly exclusive = false,
  ) {}

  /** `hashes`: the rows' hashes from rowHashes, if the caller computed them ahead (see ClickHouseWriter). */
  async seal(table: string, rows: ClickHouseRow[], hashes?: ReadonlyMap<ClickHouseRow, string>): Promise<SealedRows> {
    const epoch = this.epoch(table);
    let head = this.exclusive ? this.heads.get(table) : undefined;
    if (!head) {
      await this.settlePending(table);
      head = await this.seals.head(table);
    }
    return this.sealAfter(table, rows, head, epoch, hashes);
  }

  /**
   * Seals rows after the head this process holds, while the flush that made it may still be inserting;
   * undefined when it holds none. Never settles the chain: that would judge a pending seal whose rows
   * are being inserted right now.
   */
  async sealAhead(table: string, rows: ClickHouseRow[], hashes?: ReadonlyMap<ClickHouseRow, string>): Promise<SealedRows | undefined> {
    const head = this.exclusive ? this.heads.get(table) : undefined;
    return head && this.sealAfter(table, rows, head, this.epoch(table), hashes);
  }

  private async sealAfter(table: string, rows: ClickHouseRow[], head: ChainHead, epoch: number, hashes?: ReadonlyMap<ClickHouseRow, string>): Promise<SealedRows> {
    const { rows: chained, seal: unsigned } = chainRows(table, rows, head, sealTime(toClickHouseTime(new Date()), head.sealedAt), this.key.keyId, hashes);
    const seal: Seal = { ...unsigned, signature: this.key.sign(unsigned.seal_hash) };
    await this.seals.insertPending(seal);
    if (this.epoch(table) === epoch) this.heads.set(table, { seq: seal.seq, sealHash: seal.seal_hash, lastRowHash: seal.last_hash, sealedAt: seal.sealed_at });
    // auth_audit_log keeps the seed's per-row `signature` (docs/data-model.md): the signature of the row's seal.
    // chainRows' rows are copies of the caller's, so they are set in place.
    if (table === 'auth_audit_log') for (const row of chained) row.signature = seal.signature;
    return { rows: chained, seal };
  }

  private epoch(table: string): number {
    return this.forgotten.get(table) ?? 0;
  }

  /** Copies the seal beside its rows and marks it final. If that fails, the next flush re-reads and settles. */
  async finalize(seal: Seal): Promise<void> {
    // A retry first asks ClickHouse for the copy: the last attempt may have failed after storing it (in
    // PostgreSQL's update), and a second copy reads as a seal out of order to verification.
    const retry = this.finalizing.has(seal);
    this.finalizing.add(seal);
    try {
      await this.seals.finalize(seal, { checkExisting: retry });
    } catch (error) {
      this.forget(seal.table_name);
      throw error;
    }
  }

  async discard(seal: Seal): Promise<void> {
    this.forget(seal.table_name);
    await this.seals.discard(seal);
  }

  /** Forgets a table's cached head (after a failed flush whose seal state is unknown). */
  forget(table: string): void {
    this.heads.delete(table);
    this.forgotten.set(table, (this.forgotten.get(table) ?? 0) + 1);
  }

  /**
   * Settles the table's pending seals up to `seq` (see the class) and forgets the head: for a flush whose
   * rows are stored while the flush before failed to finalize its seal. Later seals are left alone: their
   * rows may be being inserted.
   */
  async settleThrough(table: string, seq: number): Promise<void> {
    this.forget(table);
    await this.settlePending(table, seq);
  }

  private async settlePending(table: string, throughSeq = Number.POSITIVE_INFINITY): Promise<void> {
    for (const seal of await this.seals.pending(table)) {
      if (seal.seq > throughSeq) break;
      const stored = await this.seals.rowsUnder(table, seal.seq);
      if (stored === seal.row_count) await this.seals.finalize(seal, { checkExisting: true });
      else if (stored === 0) await this.seals.discard(seal);
      else throw new Error(`seal ${table}#${seal.seq} holds ${stored} of its ${seal.row_count} rows; refusing to extend a broken chain`);
    }
  }
}
