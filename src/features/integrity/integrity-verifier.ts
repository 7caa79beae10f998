import type { ClickHouseClient } from '../../lib/clickhouse';
import { checkedPrune, sealBreak, SealRowsCheck, twiceHeld, type ChainBreak } from '../../domain/chain-check';
import type { PruneRecord, Seal } from '../../domain/seal';
import type { TableVerification, VerificationResult } from '../../domain/verification';
import type { KeyRing } from '../../lib/key-ring';
import { EVENT_TABLES } from '../../schemas/event';
import { ChainReader, sealPages, type UnsealedRows } from './chain-reader';
import { PruneRecordRepository } from './prune-record.repository';
import { SealDigestQuery } from './seal-digest-query';
import { digestHolds, type SealDigest } from '../../domain/seal-digest';
import type { SealRepository } from './seal.repository';

export type { BreakKind, ChainBreak } from '../../domain/chain-check';

/**
 * Which part of the chains to check: the seals made in [from, to)
 * (`sealed_at`), each with every one of its rows whatever their event time,
 * linked to the seal made just before `from`. Seals partition the chain, so
 * consecutive ranges (the monthly reports) check every row exactly once; an
 * event that occurred in a period but arrived later is checked in the range
 * of the seal that received it. Rows with no seal are looked for by
 * `received_at` in the range.
 */
export interface VerifyRange {
  from?: Date;
  to?: Date;
}

/** Where a table's check has got to: the last seal checked and the number the next must have. */
interface ChainPosition {
  previous: Seal | null;
  expectedSeq: number | null;
}

/** What verify reads for every table at once (one query each), before each table's chain is walked. */
interface TableStart {
  unsealed: UnsealedRows;
  prunes: PruneRecord[];
  /** The first page of seals; undefined with `range.from`, where the first page follows the seal before it. */
  firstSeals: Seal[] | undefined;
}

/**
 * Rows per digest query (the fast path). Only one row per seal comes back,
 * so this bounds ClickHouse's work per query, not the memory here.
 */
const DIGEST_PAGE_ROWS = 200_000;

class Broken extends Error {
  constructor(readonly chainBreak: ChainBreak) {
    super(chainBreak.detail);
  }
}

/**
 * Recomputes every table's chain from ClickHouse and checks it against the
 * signed seals: each row's hash and link, each seal's rows, hash, signature
 * and link to the seal before. Reads seals in pages and the rows of a few
 * seals at a time, streamed in chain order (ChainReader), so
 * memory does not grow with the table.
 */
export class IntegrityVerifier {
  private readonly chain: ChainReader;
  private readonly digests: SealDigestQuery;
  private readonly prunes: PruneRecordRepository;

  constructor(
    clickhouse: ClickHouseClient,
    /** The current signing key and the retired ones: each record is checked with the key it names. */
    private readonly keys: KeyRing,
    /** PostgreSQL's copy of the seals, cross-checked when given. */
    private readonly pgSeals?: SealRepository,
  ) {
    this.chain = new ChainReader(clickhouse);
    this.digests = new SealDigestQuery(clickhouse);
    this.prunes = new PruneRecordRepository(clickhouse);
  }

  async verify(range: VerifyRange = {}): Promise<VerificationResult> {
    const started = performance.now();
    const names = Object.values(EVENT_TABLES);
    // What every table needs first, one query each for all of them: a ClickHouse query has a fixed cost
    // (about 5 ms on the embedded store), and three per table were most of verifying a small store.
    const [unsealed, prunes, firstSeals] = await Promise.all([this.chain.unsealedRows(names, range), this.prunes.byTable(), range.from ? undefined : this.chain.firstSeals(names, range)]);
    // Tables are independent chains: checked side by side, most of their queries' waits overlap.
    const tables = await Promise.all(names.map((table) => this.verifyTable(table, range, { unsealed: unsealed.get(table)!, prunes: prunes.get(table) ?? [], firstSeals: firstSeals?.get(table) })));
    const rows = tables.reduce((n, t) => n + t.rows, 0);
    const seconds = (performance.now() - started) / 1000;
    return {
      ok: tables.every((t) => t.ok),
      from: range.from?.toISOString() ?? null,
      to: range.to?.toISOString() ?? null,
      tables,
      rows,
      seconds: Math.round(seconds * 1000) / 1000,
      rows_per_second: seconds > 0 ? Math.round(rows / seconds) : rows,
    };
  }

  private async verifyTable(table: string, range: VerifyRange, start: TableStart): Promise<TableVerification> {
    const result: TableVerification = { table, seals: 0, rows: 0, ok: true };
    try {
      checkUnsealed(table, start.unsealed);
      const pgFinal = this.pgSeals ? new Map((await this.pgSeals.finalSeals(table)).map((s) => [s.seq, s])) : undefined;
      const pgSnapshot = pgFinal && [...pgFinal.keys()];
      const prunedUpTo = this.prunedUpTo(table, start.prunes);
      const previous: Seal | null = range.from ? await this.chain.sealBefore(table, range.from) : null;
      const chain: ChainPosition = { previous, expectedSeq: previous ? previous.seq + 1 : range.from ? null : 1 };
      // The first page read before PostgreSQL's final seals is no gap: a seal made final since has its copy
      // in ClickHouse, and the pages read after the first, which go on until one comes back empty, hold it.
      let firstPage = start.firstSeals;
      for (let afterSeq = previous?.seq ?? 0; ; ) {
        const seals = firstPage ?? (await this.chain.seals(table, afterSeq, range));
        firstPage = undefined;
        if (seals.length === 0) break;
        for (const page of sealPages(seals, DIGEST_PAGE_ROWS)) {
          // Finalizing copies a seal to ClickHouse, then marks it final in PostgreSQL: a seal that
          // became final, or is between the two steps, after pgFinal was read is the writer's too.
          const unlisted = pgFinal && page.find((seal) => !pgFinal.has(seal.seq));
          if (unlisted) for (const s of await this.pgSeals!.recorded(table, unlisted.seq)) pgFinal.set(s.seq, s);
          if (await this.checkPageByDigest(table, page, chain, pgFinal, prunedUpTo, result)) continue;
          for (const part of sealPages(page)) await this.checkPageRowByRow(table, part, chain, pgFinal, prunedUpTo, result);
        }
        afterSeq = seals[seals.length - 1]!.seq;
      }
      // Rows past the last seal checked belong to no seal there: only a flush being written now (its seal
      // recorded in PostgreSQL before its rows are inserted) may have them. A range that ends early leaves
      // the later seals' rows to the ranges after it.
      if (!range.to) await this.checkRowsPastLastSeal(table, chain.previous?.seq ?? 0);
      if (pgSnapshot && !range.from && !range.to) {
        const lastChecked = chain.previous?.seq ?? 0;
        // The seals final when verification began, which ClickHouse held before they were final.
        const missing = [...pgSnapshot].filter((seq) => seq > lastChecked).sort((a, b) => a - b)[0];
        if (missing !== undefined) {
          throw new Broken({ kind: 'seal_missing', table, seal_seq: missing, event_id: null, detail: `seal ${missing} is in PostgreSQL but not in ClickHouse` });
        }
      }
    } catch (error) {
      if (!(error instanceof Broken)) throw error;
      result.ok = false;
      result.first_break = error.chainBreak;
    }
    return result;
  }

  /** Rows naming a seal after `lastSeq` that neither ClickHouse nor PostgreSQL holds: inserted behind the pipeline's back. */
  private async checkRowsPastLastSeal(table: string, lastSeq: number): Promise<void> {
    const named = await this.chain.sealNumbersAfter(table, lastSeq);
    if (named.length === 0) return;
    // Read after the rows: a flush records its seal in PostgreSQL before it inserts the rows.
    const recorded = new Set(this.pgSeals ? (await this.pgSeals.recorded(table, lastSeq + 1)).map((s) => s.seq) : []);
    const orphan = named.find((n) => !recorded.has(n.seq));
    if (orphan) {
      throw new Broken({ kind: 'row_inserted', table, seal_seq: orphan.seq, event_id: orphan.eventId, detail: `row ${orphan.eventId} names seal ${orphan.seq}, which does not exist` });
    }
  }

  /**
   * The fast path: ClickHouse sums up each seal's rows (SealDigestQuery) and
   * only the seals themselves are checked here. False, with nothing checked
   * or counted, when any seal's rows do not add up: the caller then checks
   * the page row by row, which names what broke.
   */
  private async checkPageByDigest(table: string, page: Seal[], chain: ChainPosition, pgFinal: Map<number, Seal> | undefined, prunedUpTo: number, result: TableVerification): Promise<boolean> {
    let digests: Map<number, SealDigest>;
    try {
      digests = await this.digests.digests(table, page[0]!.seq, page[page.length - 1]!.seq);
    } catch {
      // A query ClickHouse cannot run (a path it will not name, a value it will not print) is no verdict: check row by row.
      return false;
    }
    const inPage = new Set(page.map((seal) => seal.seq));
    if ([...digests.keys()].some((seq) => !inPage.has(seq))) return false;
    for (const seal of page) {
      const digest = digests.get(seal.seq);
      // No rows at all: fine only where a signed retention prune removed them.
      if (digest ? !digestHolds(seal, digest) : seal.seq > prunedUpTo || seal.row_count === 0) return false;
    }
    for (const seal of page) {
      this.openSeal(table, seal, chain, pgFinal);
      result.seals++;
      result.rows += digests.get(seal.seq)?.rows ?? 0;
    }
    return true;
  }

  /** The authority: every row of the page's seals read back and checked one at a time, in chain order. */
  private async checkPageRowByRow(table: string, page: Seal[], chain: ChainPosition, pgFinal: Map<number, Seal> | undefined, prunedUpTo: number, result: TableVerification): Promise<void> {
    let k = -1;
    let check: SealRowsCheck | null = null;
    // Closes the current seal (if any) and opens the next one of the page.
    const next = (): void => {
      if (check) this.endSeal(page[k]!, check, prunedUpTo, result);
      const seal = page[++k]!;
      this.openSeal(table, seal, chain, pgFinal);
      check = new SealRowsCheck(table, seal);
    };
    next();
    for await (const { row, text } of this.chain.rows(table, page[0]!.seq, page[page.length - 1]!.seq)) {
      while (row.seal_seq > page[k]!.seq && k < page.length - 1) next();
      if (row.seal_seq !== page[k]!.seq) {
        throw new Broken({ kind: 'row_inserted', table, seal_seq: row.seal_seq, event_id: row.event_id, detail: `row ${row.event_id} names seal ${row.seal_seq}, which does not exist` });
      }
      const broken = check!.add(row) ?? twiceHeld(table, row, text);
      if (broken) throw new Broken(broken);
    }
    while (k < page.length - 1) next();
    this.endSeal(page[k]!, check!, prunedUpTo, result);
  }

  /** A seal in chain order: the next number, and sound on its own and as the writer recorded it. */
  private openSeal(table: string, seal: Seal, chain: ChainPosition, pgFinal: Map<number, Seal> | undefined): void {
    if (chain.expectedSeq !== null && seal.seq !== chain.expectedSeq) {
      throw new Broken({ kind: 'seal_missing', table, seal_seq: chain.expectedSeq, event_id: null, detail: `seal ${chain.expectedSeq} is missing (next is ${seal.seq})` });
    }
    this.checkSeal(table, seal, chain.previous, pgFinal);
    chain.previous = seal;
    chain.expectedSeq = seal.seq + 1;
  }

  private checkSeal(table: string, seal: Seal, previous: Seal | null, pgFinal?: Map<number, Seal>): void {
    const broken = sealBreak(table, seal, previous, this.keys);
    if (broken) throw new Broken(broken);
    const pg = pgFinal?.get(seal.seq);
    if (pgFinal && (!pg || pg.seal_hash !== seal.seal_hash)) {
      throw new Broken({ kind: 'seal_modified', table, seal_seq: seal.seq, event_id: null, detail: `seal ${seal.seq} differs from the writer's record in PostgreSQL` });
    }
  }

  private endSeal(seal: Seal, check: SealRowsCheck, prunedUpTo: number, result: TableVerification): void {
    // A retention prune removed these rows on purpose, and said so in a signed record.
    const pruned = check.rows === 0 && seal.seq <= prunedUpTo;
    const broken = pruned ? null : check.end();
    if (broken) throw new Broken(broken);
    result.seals++;
    result.rows += check.rows;
  }

  /** The last seal whose rows a valid (signed) retention prune removed; 0 if none. */
  private prunedUpTo(table: string, records: PruneRecord[]): number {
    let upTo = 0;
    for (const raw of records) {
      const { record, valid } = checkedPrune(raw, this.keys);
      if (!valid) {
        throw new Broken({ kind: 'bad_signature', table, seal_seq: record.up_to_seq, event_id: null, detail: `the retention prune record up to seal ${record.up_to_seq} is not validly signed` });
      }
      upTo = Math.max(upTo, record.up_to_seq);
    }
    return upTo;
  }
}

/** Rows that belong to no seal at all: written behind the pipeline's back. */
function checkUnsealed(table: string, unsealed: UnsealedRows): void {
  if (unsealed.count > 0) {
    throw new Broken({ kind: 'row_inserted', table, seal_seq: null, event_id: unsealed.eventId, detail: `${unsealed.count} row(s) carry no seal, e.g. ${unsealed.eventId}` });
  }
}
