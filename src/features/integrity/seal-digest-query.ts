import type { SealDigest } from '../../domain/seal-digest';
import type { ClickHouseClient } from '../../lib/clickhouse';
import { HASHED_COLUMNS } from '../../domain/row-hash';

/**
 * The integrity check of whole seals inside ClickHouse: each row's hash is
 * recomputed there (SHA256 over the same canonical JSON as `rowHash`, built
 * with ClickHouse's own functions), and each seal's rows are summed up into
 * what the seal claims (count, chain indexes, links, root). Only one small
 * row per seal comes back, so the engine's C++ does the work JavaScript did
 * row by row. The text ClickHouse builds is the same as `rowHash`'s for the
 * values the pipeline writes; where it is not (a float past 1e21, a key with
 * '-' beside one with '.', U+2028 in a string), the seal merely fails here and
 * the verifier checks it again row by row, which is the authority.
 */

/**
 * Settings that make ClickHouse's JSON text match JSON.stringify's. One
 * thread: printing JSON-typed values is most of the work, and on the 2-core
 * machines we measured it ran slower with two threads than with one
 * (1.1 s against 2.0 s for a 200k-row page), and no faster as two queries.
 */
export const DIGEST_SETTINGS = {
  output_format_json_quote_64bit_integers: 0,
  output_format_json_quote_64bit_floats: 0,
  output_format_json_quote_decimals: 0,
  output_format_json_escape_forward_slashes: 0,
  max_threads: 1,
} as const;

/**
 * ClickHouse's text of one column as `canonicalJson(normalizeForHash(v))`
 * gives it, prefixed with `,"name":`; '' where normalizeForHash drops the
 * value (null, an empty map or object).
 */
export function columnJsonExpression(name: string, type: string): string {
  const quoted = `\`${name}\``;
  const member = (value: string) => `concat(',${JSON.stringify(name)}:', ${value})`;
  const nullable = /^(LowCardinality\()?Nullable\(/.test(type);
  const base = type.replace(/^LowCardinality\((.*)\)$/, '$1').replace(/^Nullable\((.*)\)$/, '$1');
  const value = nullable && !base.startsWith('JSON') ? `assumeNotNull(${quoted})` : quoted;
  let text: string;
  let empty: string | null = null;
  if (base.startsWith('JSON') || base.startsWith('Object')) {
    // Paths are cheap to list and costly to print: rows without any skip the printing.
    text = `ifNull(toJSONString(${quoted}), '')`;
    empty = `empty(JSONAllPaths(${quoted}))`;
  } else if (base.startsWith('Map(')) {
    text = `toJSONString(mapSort(${value}))`;
    empty = `empty(${value})`;
  } else if (base.startsWith('Array(') || base.startsWith('Tuple(')) {
    text = `toJSONString(${value})`;
  } else if (/^(U?Int\d+|Float\d+|Bool|Decimal)/.test(base)) {
    text = `toString(${value})`;
  } else {
    // String, UUID, dates and enums: their text, as a JSON string.
    text = `toJSONString(toString(${value}))`;
  }
  const absent = [nullable && !base.startsWith('JSON') ? `isNull(${quoted})` : null, empty].filter((c) => c !== null);
  return absent.length > 0 ? `if(${absent.join(' OR ')}, '', ${member(text)})` : member(text);
}

/** ClickHouse's `rowHash(table, row)` for one row of `table`, lower-case hex. */
export function rowHashExpression(table: string, types: ReadonlyMap<string, string>): string {
  const columns = HASHED_COLUMNS.get(table);
  if (!columns) throw new Error(`no hash columns for table ${table}`);
  const parts = columns.map((column) => {
    const type = types.get(column);
    if (!type) throw new Error(`${table} has no column ${column}`);
    return columnJsonExpression(column, type);
  });
  return `lower(hex(SHA256(concat('{"$table":${JSON.stringify(table).replaceAll("'", "\\'")}', ${parts.join(', ')}, '}'))))`;
}

/**
 * One query: the digest of every seal of `table` from fromSeq to toSeq that
 * has rows (a seal whose rows were pruned, or are all gone, has none).
 */
export function sealDigestQuery(table: string, types: ReadonlyMap<string, string>): string {
  // s: the seal's rows in chain order, as (chain_index, row_hash, previous_hash).
  return `
SELECT seal_seq, n, bad_hashes,
  s[1].1 = 0 AND s[n].1 = n - 1 AND arrayAll((a, b) -> b.1 = a.1 + 1, arrayPopBack(s), arrayPopFront(s)) AS indexes_ok,
  arrayAll((a, b) -> b.3 = a.2, arrayPopBack(s), arrayPopFront(s)) AS links_ok,
  s[1].3 AS first_previous_hash,
  s[n].2 AS last_hash,
  lower(hex(SHA256(arrayStringConcat(arrayMap(x -> x.2, s), '\\n')))) AS rows_root
FROM (
  SELECT seal_seq, count() AS n,
    countIf(${rowHashExpression(table, types)} != row_hash) AS bad_hashes,
    arraySort(groupArray((chain_index, row_hash, previous_hash))) AS s
  FROM ${table}
  WHERE seal_seq BETWEEN {a:UInt64} AND {b:UInt64}
  GROUP BY seal_seq
)
ORDER BY seal_seq`;
}

/** Runs the digest query for seals fromSeq..toSeq of a table. */
export class SealDigestQuery {
  private readonly sql = new Map<string, string>();

  constructor(private readonly clickhouse: ClickHouseClient) {}

  async digests(table: string, fromSeq: number, toSeq: number): Promise<Map<number, SealDigest>> {
    const result = await this.clickhouse.query({
      query: await this.queryFor(table),
      query_params: { a: fromSeq, b: toSeq },
      format: 'JSONEachRow',
      clickhouse_settings: DIGEST_SETTINGS,
    });
    const digests = new Map<number, SealDigest>();
    for (const raw of await result.json<Record<string, unknown>>()) {
      const digest: SealDigest = {
        seal_seq: Number(raw.seal_seq),
        rows: Number(raw.n),
        bad_hashes: Number(raw.bad_hashes),
        indexes_ok: Boolean(raw.indexes_ok),
        links_ok: Boolean(raw.links_ok),
        first_previous_hash: String(raw.first_previous_hash),
        last_hash: String(raw.last_hash),
        rows_root: String(raw.rows_root),
      };
      digests.set(digest.seal_seq, digest);
    }
    return digests;
  }

  private async queryFor(table: string): Promise<string> {
    let sql = this.sql.get(table);
    if (!sql) {
      const result = await this.clickhouse.query({
        query: 'SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String}',
        query_params: { t: table },
        format: 'JSONEachRow',
      });
      const types = new Map((await result.json<{ name: string; type: string }>()).map((c) => [c.name, c.type]));
      sql = sealDigestQuery(table, types);
      this.sql.set(table, sql);
    }
    return sql;
  }
}
