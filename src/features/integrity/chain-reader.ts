import type { ChainRow } from '../../domain/chain-check';
import { toClickHouseTime } from '../../domain/event-row';
import type { Seal } from '../../domain/seal';
import type { ClickHouseClient } from '../../lib/clickhouse';

/**
 * Rows per query when reading a table by seal. The embedded engine (chDB)
 * hands over a query's whole result at once, so a bounded page is what
 * bounds memory there; a ClickHouse server streams it. Either way rows are
 * parsed one at a time (resultSet.stream()), never held as one array.
 */
export const PAGE_ROWS = 20_000;

/** Seals per query when reading a table's seals in pages. */
export const SEAL_PAGE = 1000;

/** [from, to): either end open when absent. */
export interface TimeWindow {
  from?: Date;
  to?: Date;
}

const settings = { output_format_json_quote_64bit_integers: 0 } as const;

/** Rows of a table that carry no seal: how many, and one of their event ids. */
export interface UnsealedRows {
  count: number;
  eventId: string | null;
}

/**
 * Reads the hash chains in ClickHouse, for verification, archiving and
 * retention: the seals of a table (integrity_seals, which SealRepository
 * writes) and its rows by seal (which the ClickHouse writer writes).
 */
export class ChainReader {
  constructor(private readonly clickhouse: ClickHouseClient) {}

  /**
   * The first page of seals of each of `tables`, made within `window`: what `seals(table, 0, window,
   * limit)` gives for each, in one query.
   */
  async firstSeals(tables: readonly string[], window: TimeWindow = {}, limit = SEAL_PAGE): Promise<Map<string, Seal[]>> {
    const seals = await this.query<Seal>(
      `SELECT * FROM integrity_seals WHERE table_name IN {tables:Array(String)} ${windowClause('sealed_at', window)} ORDER BY table_name, seq LIMIT ${limit} BY table_name`,
      { tables, ...windowParams(window) },
    );
    const byTable = new Map<string, Seal[]>(tables.map((table) => [table, []]));
    for (const s of seals) byTable.get(s.table_name)?.push(numbered(s));
    return byTable;
  }

  /** Up to `limit` seals of `table` after `afterSeq`, made (sealed_at) within `window`, in order. */
  async seals(table: string, afterSeq: number, window: TimeWindow = {}, limit = SEAL_PAGE): Promise<Seal[]> {
    const seals = await this.query<Seal>(`SELECT * FROM integrity_seals WHERE table_name = {t:String} AND seq > {after:UInt64} ${windowClause('sealed_at', window)} ORDER BY seq LIMIT ${limit}`, {
      t: table,
      after: afterSeq,
      ...windowParams(window),
    });
    return seals.map(numbered);
  }

  /** The last seal of `table` made before `time`; null if none. */
  async sealBefore(table: string, time: Date): Promise<Seal | null> {
    const [seal] = await this.query<Seal>(`SELECT * FROM integrity_seals WHERE table_name = {t:String} AND sealed_at < {from:DateTime64(3)} ORDER BY seq DESC LIMIT 1`, {
      t: table,
      from: toClickHouseTime(time),
    });
    return seal ? { ...seal, seq: Number(seal.seq) } : null;
  }

  /**
   * Per table, its rows that carry no seal, received (received_at) within `window`: how many, and one
   * of their event ids. One query for all the tables: each query has a fixed cost (about 5 ms on the
   * embedded store), which one per table made most of verifying a small store.
   */
  async unsealedRows(tables: readonly string[], window: TimeWindow = {}): Promise<Map<string, UnsealedRows>> {
    const names = Object.fromEntries(tables.map((table, i) => [`t${i}`, table]));
    const parts = tables.map((table, i) => `SELECT {t${i}:String} AS t, count() AS n, toString(any(event_id)) AS id FROM ${table} WHERE seal_seq = 0 ${windowClause('received_at', window)}`);
    const rows = await this.query<{ t: string; n: number; id: string }>(parts.join(' UNION ALL '), { ...names, ...windowParams(window) });
    const found = new Map(rows.map((row) => [row.t, row]));
    return new Map(
      tables.map((table) => {
        const row = found.get(table);
        return [table, { count: Number(row?.n ?? 0), eventId: row?.id ?? null }];
      }),
    );
  }

  /** The seal numbers past `afterSeq` that rows of `table` name (up to `limit`, in order), each with one of its event ids. */
  async sealNumbersAfter(table: string, afterSeq: number, limit = 100): Promise<{ seq: number; eventId: string }[]> {
    const rows = await this.query<{ seq: number; id: string }>(
      `SELECT seal_seq AS seq, toString(any(event_id)) AS id FROM ${table} WHERE seal_seq > {s:UInt64} GROUP BY seal_seq ORDER BY seal_seq LIMIT ${limit}`,
      { s: afterSeq },
    );
    return rows.map((row) => ({ seq: Number(row.seq), eventId: row.id }));
  }

  /** Rows of `table` under its seals 1..upTo. */
  async rowsThrough(table: string, upTo: number): Promise<number> {
    const [count] = await this.query<{ n: number }>(`SELECT count() AS n FROM ${table} WHERE seal_seq > 0 AND seal_seq <= {s:UInt64}`, { s: upTo });
    return Number(count?.n ?? 0);
  }

  /** The rows of seals fromSeq..toSeq of `table`, in chain order (see chainRows). */
  rows(table: string, fromSeq: number, toSeq: number): AsyncGenerator<{ row: ChainRow; text: string }> {
    return chainRows(this.clickhouse, table, fromSeq, toSeq);
  }

  private async query<T>(sql: string, params: Record<string, unknown>): Promise<T[]> {
    const result = await this.clickhouse.query({ query: sql, query_params: params, format: 'JSONEachRow', clickhouse_settings: settings });
    return result.json<T>();
  }
}

/** A seal as ClickHouse gives it, with its counters as numbers. */
function numbered(seal: Seal): Seal {
  return { ...seal, seq: Number(seal.seq), row_count: Number(seal.row_count) };
}

function windowClause(column: string, window: TimeWindow): string {
  return `${window.from ? `AND ${column} >= {from:DateTime64(3)}` : ''} ${window.to ? `AND ${column} < {to:DateTime64(3)}` : ''}`;
}

function windowParams(window: TimeWindow): Record<string, string> {
  return {
    ...(window.from ? { from: toClickHouseTime(window.from) } : {}),
    ...(window.to ? { to: toClickHouseTime(window.to) } : {}),
  };
}

/** Consecutive runs of `seals` whose rows fit in `maxRows` (each at least one seal). */
export function sealPages(seals: Seal[], maxRows = PAGE_ROWS): Seal[][] {
  const pages: Seal[][] = [];
  for (let i = 0; i < seals.length; ) {
    let j = i;
    let budget = 0;
    while (j < seals.length && (j === i || budget + seals[j]!.row_count <= maxRows)) budget += seals[j++]!.row_count;
    pages.push(seals.slice(i, j));
    i = j;
  }
  return pages;
}

/**
 * The rows of seals fromSeq..toSeq of a table in chain order, one at a time,
 * each with its JSONEachRow text as ClickHouse gave it. A `_part_offset`
 * projection on seal_seq (clickhouse/007) lets ClickHouse read only them.
 */
export async function* chainRows(clickhouse: ClickHouseClient, table: string, fromSeq: number, toSeq: number): AsyncGenerator<{ row: ChainRow; text: string }> {
  const result = await clickhouse.query({
    query: `SELECT * FROM ${table} WHERE seal_seq BETWEEN {a:UInt64} AND {b:UInt64} ORDER BY seal_seq, chain_index`,
    query_params: { a: fromSeq, b: toSeq },
    format: 'JSONEachRow',
    clickhouse_settings: settings,
  });
  for await (const rows of result.stream()) {
    for (const raw of rows) {
      const row = raw.json<ChainRow>();
      row.seal_seq = Number(row.seal_seq);
      row.chain_index = Number(row.chain_index);
      yield { row, text: raw.text };
    }
  }
}
