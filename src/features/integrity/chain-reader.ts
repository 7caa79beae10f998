import type { ChainRow } from '../../domain/chain-check';
import type { Seal } from '../../domain/seal';
import type { ClickHouseClient } from '../../lib/clickhouse';

/**
 * Rows per query when reading a table by seal. The embedded engine (chDB)
 * hands over a query's whole result at once, so a bounded page is what
 * bounds memory there; a ClickHouse server streams it. Either way rows are
 * parsed one at a time (resultSet.stream()), never held as one array.
 */
export const PAGE_ROWS = 20_000;

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
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
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
