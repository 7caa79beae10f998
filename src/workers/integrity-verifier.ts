import type { ClickHouseClient } from '../lib/clickhouse';
import { toClickHouseTime } from '../domain/event-row';
import { rowHash } from '../domain/row-hash';
import { pruneHash, rowsRoot, sealHash, type PruneRecord, type Seal } from '../domain/seal';
import type { KeyRing } from '../lib/key-ring';
import { EVENT_TABLES } from '../schemas/event';
import type { SealRepository } from './seal.repository';

export type BreakKind =
  | 'row_modified'
  | 'row_deleted'
  | 'row_inserted'
  | 'seal_missing'
  | 'seal_reordered'
  | 'seal_modified'
  | 'bad_signature';

/** The first place a table's chain does not hold. */
export interface ChainBreak {
  kind: BreakKind;
  table: string;
  seal_seq: number | null;
  event_id: string | null;
  detail: string;
}

export interface TableVerification {
  table: string;
  seals: number;
  rows: number;
  ok: boolean;
  first_break?: ChainBreak;
}

export interface VerificationResult {
  ok: boolean;
  from: string | null;
  to: string | null;
  tables: TableVerification[];
  rows: number;
  seconds: number;
  rows_per_second: number;
}

export interface VerifyRange {
  from?: Date;
  to?: Date;
}

type Row = Record<string, unknown> & { event_id: string; row_hash: string; previous_hash: string; seal_seq: number; chain_index: number };

class Broken extends Error {
  constructor(readonly chainBreak: ChainBreak) {
    super(chainBreak.detail);
  }
}

/** Rows fetched per query: memory stays bounded whatever the table size. */
const PAGE_ROWS = 20_000;
const SEAL_PAGE = 1000;

/**
 * Recomputes every table's chain from ClickHouse and checks it against the
 * signed seals: each row's hash and link, each seal's rows, hash, signature
 * and link to the seal before. Reads in bounded pages (seals, then the rows
 * of a few seals at a time), so memory does not grow with the table.
 */
export class IntegrityVerifier {
  constructor(
    private readonly clickhouse: ClickHouseClient,
    /** The current signing key and the retired ones: each record is checked with the key it names. */
    private readonly keys: KeyRing,
    /** PostgreSQL's copy of the seals, cross-checked when given. */
    private readonly pgSeals?: SealRepository,
  ) {}

  async verify(range: VerifyRange = {}): Promise<VerificationResult> {
    const started = performance.now();
    const tables: TableVerification[] = [];
    for (const table of Object.values(EVENT_TABLES)) tables.push(await this.verifyTable(table, range));
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

  private async verifyTable(table: string, range: VerifyRange): Promise<TableVerification> {
    const result: TableVerification = { table, seals: 0, rows: 0, ok: true };
    try {
      await this.checkUnsealed(table, range);
      const pgFinal = this.pgSeals ? new Map((await this.pgSeals.finalSeals(table)).map((s) => [s.seq, s])) : undefined;
      const pgSnapshot = pgFinal && [...pgFinal.keys()];
      const prunedUpTo = await this.prunedUpTo(table);
      let previous: Seal | null = await this.sealBefore(table, range);
      let expectedSeq = previous ? previous.seq + 1 : range.from ? null : 1;
      for (let afterSeq = previous?.seq ?? 0; ; ) {
        const seals = await this.seals(table, afterSeq, range);
        if (seals.length === 0) break;
        for (let i = 0; i < seals.length; ) {
          // A page of seals whose rows fit in PAGE_ROWS (at least one seal).
          let j = i;
          let budget = 0;
          while (j < seals.length && (j === i || budget + seals[j]!.row_count <= PAGE_ROWS)) budget += seals[j++]!.row_count;
          const page = seals.slice(i, j);
          const rows = await this.rowsOf(table, page[0]!.seq, page[page.length - 1]!.seq);
          let cursor = 0;
          for (const seal of page) {
            if (expectedSeq !== null && seal.seq !== expectedSeq) {
              throw new Broken({ kind: 'seal_missing', table, seal_seq: expectedSeq, event_id: null, detail: `seal ${expectedSeq} is missing (next is ${seal.seq})` });
            }
            // Finalizing copies a seal to ClickHouse, then marks it final in PostgreSQL: a seal that
            // became final, or is between the two steps, after pgFinal was read is the writer's too.
            if (pgFinal && !pgFinal.has(seal.seq)) for (const s of await this.pgSeals!.recorded(table, seal.seq)) pgFinal.set(s.seq, s);
            this.checkSeal(table, seal, previous, pgFinal);
            const mine: Row[] = [];
            while (cursor < rows.length && rows[cursor]!.seal_seq === seal.seq) mine.push(rows[cursor++]!);
            // A retention prune removed these rows on purpose, and said so in a signed record.
            if (!(mine.length === 0 && seal.seq <= prunedUpTo)) this.checkRows(table, seal, mine);
            result.seals++;
            result.rows += mine.length;
            previous = seal;
            expectedSeq = seal.seq + 1;
          }
          if (cursor < rows.length) {
            const stray = rows[cursor]!;
            throw new Broken({ kind: 'row_inserted', table, seal_seq: stray.seal_seq, event_id: stray.event_id, detail: `row ${stray.event_id} names seal ${stray.seal_seq}, which does not exist` });
          }
          i = j;
        }
        afterSeq = seals[seals.length - 1]!.seq;
      }
      if (pgSnapshot && !range.from && !range.to) {
        const lastChecked = previous?.seq ?? 0;
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

  private checkSeal(table: string, seal: Seal, previous: Seal | null, pgFinal?: Map<number, Seal>): void {
    const at = { table, seal_seq: seal.seq, event_id: null };
    const { seal_hash: _h, signature: _s, ...fields } = seal;
    if (sealHash(fields) !== seal.seal_hash) throw new Broken({ kind: 'seal_modified', ...at, detail: `seal ${seal.seq} does not match its own hash` });
    if (!this.keys.verify(seal.key_id, seal.seal_hash, seal.signature)) {
      const why = this.keys.get(seal.key_id) ? 'an invalid signature' : 'a signature by an unknown key (neither the current key nor one in $KEYS_DIR/retired)';
      throw new Broken({ kind: 'bad_signature', ...at, detail: `seal ${seal.seq} has ${why} (key ${seal.key_id})` });
    }
    if (previous && (seal.previous_seal_hash !== previous.seal_hash || seal.first_previous_hash !== previous.last_hash)) {
      throw new Broken({ kind: 'seal_reordered', ...at, detail: `seal ${seal.seq} does not follow seal ${previous.seq}` });
    }
    if (!previous && seal.seq === 1 && (seal.previous_seal_hash !== '' || seal.first_previous_hash !== '')) {
      throw new Broken({ kind: 'seal_reordered', ...at, detail: 'seal 1 claims a predecessor' });
    }
    const pg = pgFinal?.get(seal.seq);
    if (pgFinal && (!pg || pg.seal_hash !== seal.seal_hash)) {
      throw new Broken({ kind: 'seal_modified', ...at, detail: `seal ${seal.seq} differs from the writer's record in PostgreSQL` });
    }
  }

  private checkRows(table: string, seal: Seal, rows: Row[]): void {
    let previousHash = seal.first_previous_hash;
    const hashes: string[] = [];
    for (let index = 0; index < rows.length; index++) {
      const row = rows[index]!;
      const at = { table, seal_seq: seal.seq, event_id: row.event_id };
      if (row.chain_index > index) {
        throw new Broken({ kind: 'row_deleted', ...at, detail: `seal ${seal.seq} is missing row ${index} (the chain resumes at ${row.event_id})` });
      }
      if (row.chain_index < index || index >= seal.row_count) {
        throw new Broken({ kind: 'row_inserted', ...at, detail: `row ${row.event_id} is not one of seal ${seal.seq}'s ${seal.row_count} rows` });
      }
      if (rowHash(table, row) !== row.row_hash) throw new Broken({ kind: 'row_modified', ...at, detail: `row ${row.event_id} was changed after it was sealed` });
      if (row.previous_hash !== previousHash) throw new Broken({ kind: 'row_modified', ...at, detail: `row ${row.event_id} does not link to the row before it` });
      previousHash = row.row_hash;
      hashes.push(row.row_hash);
    }
    if (rows.length < seal.row_count) {
      throw new Broken({ kind: 'row_deleted', table, seal_seq: seal.seq, event_id: null, detail: `seal ${seal.seq} holds ${rows.length} of its ${seal.row_count} rows (the last ones are gone)` });
    }
    if (rowsRoot(hashes) !== seal.rows_root || previousHash !== seal.last_hash) {
      throw new Broken({ kind: 'row_modified', table, seal_seq: seal.seq, event_id: null, detail: `the rows of seal ${seal.seq} do not add up to its root` });
    }
  }

  /** The last seal whose rows a valid (signed) retention prune removed; 0 if none. */
  private async prunedUpTo(table: string): Promise<number> {
    const records = await this.query<PruneRecord>(`SELECT * FROM integrity_prunes WHERE table_name = {t:String} ORDER BY up_to_seq`, { t: table });
    let upTo = 0;
    for (const r of records) {
      const record = { ...r, up_to_seq: Number(r.up_to_seq), rows_pruned: Number(r.rows_pruned), policy_days: Number(r.policy_days) };
      const { prune_hash: _h, signature: _s, ...fields } = record;
      if (pruneHash(fields) !== record.prune_hash || !this.keys.verify(record.key_id, record.prune_hash, record.signature)) {
        throw new Broken({ kind: 'bad_signature', table, seal_seq: record.up_to_seq, event_id: null, detail: `the retention prune record up to seal ${record.up_to_seq} is not validly signed` });
      }
      upTo = Math.max(upTo, record.up_to_seq);
    }
    return upTo;
  }

  /** Rows that belong to no seal at all: written behind the pipeline's back. */
  private async checkUnsealed(table: string, range: VerifyRange): Promise<void> {
    const [row] = await this.query<{ n: number; id: string }>(
      `SELECT count() AS n, toString(any(event_id)) AS id FROM ${table} WHERE seal_seq = 0 ${rangeClause('received_at', range)}`,
      rangeParams(range),
    );
    if (row && Number(row.n) > 0) {
      throw new Broken({ kind: 'row_inserted', table, seal_seq: null, event_id: row.id, detail: `${row.n} row(s) carry no seal, e.g. ${row.id}` });
    }
  }

  private async sealBefore(table: string, range: VerifyRange): Promise<Seal | null> {
    if (!range.from) return null;
    const [seal] = await this.query<Seal>(
      `SELECT * FROM integrity_seals WHERE table_name = {t:String} AND sealed_at < {from:DateTime64(3)} ORDER BY seq DESC LIMIT 1`,
      { t: table, from: toClickHouseTime(range.from) },
    );
    return seal ? { ...seal, seq: Number(seal.seq) } : null;
  }

  private async seals(table: string, afterSeq: number, range: VerifyRange): Promise<Seal[]> {
    const seals = await this.query<Seal>(
      `SELECT * FROM integrity_seals WHERE table_name = {t:String} AND seq > {after:UInt64} ${rangeClause('sealed_at', range)} ORDER BY seq LIMIT ${SEAL_PAGE}`,
      { t: table, after: afterSeq, ...rangeParams(range) },
    );
    return seals.map((s) => ({ ...s, seq: Number(s.seq), row_count: Number(s.row_count) }));
  }

  private async rowsOf(table: string, fromSeq: number, toSeq: number): Promise<Row[]> {
    const rows = await this.query<Row>(`SELECT * FROM ${table} WHERE seal_seq BETWEEN {a:UInt64} AND {b:UInt64} ORDER BY seal_seq, chain_index`, { a: fromSeq, b: toSeq });
    return rows.map((r) => ({ ...r, seal_seq: Number(r.seal_seq), chain_index: Number(r.chain_index) }));
  }

  private async query<T>(sql: string, params: Record<string, unknown>): Promise<T[]> {
    const result = await this.clickhouse.query({
      query: sql,
      query_params: params,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    return result.json<T>();
  }
}

function rangeClause(column: string, range: VerifyRange): string {
  return `${range.from ? `AND ${column} >= {from:DateTime64(3)}` : ''} ${range.to ? `AND ${column} < {to:DateTime64(3)}` : ''}`;
}

function rangeParams(range: VerifyRange): Record<string, string> {
  return {
    ...(range.from ? { from: toClickHouseTime(range.from) } : {}),
    ...(range.to ? { to: toClickHouseTime(range.to) } : {}),
  };
}
