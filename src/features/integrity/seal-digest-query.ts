import type { SealDigest } from '../../domain/seal-digest';
import type { ClickHouseClient } from '../../lib/clickhouse';
import { HASHED_COLUMNS } from '../../domain/row-hash';
import { jsonTextExpression, MAX_BUILT_PATHS, sqlString } from './json-text-expression';

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
 * Settings that make ClickHouse's JSON text match JSON.stringify's. (With
 * JSON values printed whole, one thread was faster than two; built from
 * subcolumns, two are: 322 against 400 ms for a 200k-row page.)
 */
export const DIGEST_SETTINGS = {
  output_format_json_quote_64bit_integers: 0,
  output_format_json_quote_64bit_floats: 0,
  output_format_json_quote_decimals: 0,
  output_format_json_escape_forward_slashes: 0,
} as const;

/**
 * ClickHouse's text of one column as `canonicalJson(normalizeForHash(v))`
 * gives it, prefixed with `,"name":`; '' where normalizeForHash drops the
 * value (null, an empty map or object).
 */
export function columnJsonExpression(name: string, type: string, jsonPaths?: readonly string[]): string {
  const quoted = `\`${name}\``;
  const member = (value: string) => `concat(${sqlString(`,${JSON.stringify(name)}:`)}, ${value})`;
  const nullable = /^(LowCardinality\()?Nullable\(/.test(type);
  const base = baseType(type);
  const value = nullable && !isJsonType(base) ? `assumeNotNull(${quoted})` : quoted;
  let text: string;
  let empty: string | null = null;
  if (isJsonType(base)) {
    text = jsonTextExpression(name, jsonPaths);
    empty = `${text} = '{}'`;
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
  const absent = [nullable && !isJsonType(base) ? `isNull(${quoted})` : null, empty].filter((c) => c !== null);
  return absent.length > 0 ? `if(${absent.join(' OR ')}, '', ${member(text)})` : member(text);
}

/** A column type without its LowCardinality and Nullable wrappers. */
function baseType(type: string): string {
  return type.replace(/^LowCardinality\((.*)\)$/, '$1').replace(/^Nullable\((.*)\)$/, '$1');
}

function isJsonType(base: string): boolean {
  return base.startsWith('JSON') || base.startsWith('Object');
}

/** The hashed columns of `table` that are JSON-typed. */
export function jsonColumns(table: string, types: ReadonlyMap<string, string>): string[] {
  return (HASHED_COLUMNS.get(table) ?? []).filter((c) => isJsonType(baseType(types.get(c) ?? '')));
}

/**
 * ClickHouse's `rowHash(table, row)` for one row of `table`, lower-case hex.
 * `jsonPaths`: the paths each JSON column holds in the rows at hand, where known.
 */
export function rowHashExpression(table: string, types: ReadonlyMap<string, string>, jsonPaths: ReadonlyMap<string, readonly string[]> = new Map()): string {
  const columns = HASHED_COLUMNS.get(table);
  if (!columns) throw new Error(`no hash columns for table ${table}`);
  const parts = columns.map((column) => {
    const type = types.get(column);
    if (!type) throw new Error(`${table} has no column ${column}`);
    return columnJsonExpression(column, type, jsonPaths.get(column));
  });
  return `lower(hex(SHA256(concat(${sqlString(`{"$table":${JSON.stringify(table)}`)}, ${parts.join(', ')}, '}'))))`;
}

/**
 * One query: the digest of every seal of `table` from fromSeq to toSeq that
 * has rows (a seal whose rows were pruned, or are all gone, has none).
 */
export function sealDigestQuery(table: string, types: ReadonlyMap<string, string>, jsonPaths?: ReadonlyMap<string, readonly string[]>): string {
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
    countIf(${rowHashExpression(table, types, jsonPaths)} != row_hash) AS bad_hashes,
    arraySort(groupArray((chain_index, row_hash, previous_hash))) AS s
  FROM ${table}
  WHERE seal_seq BETWEEN {a:UInt64} AND {b:UInt64}
  GROUP BY seal_seq
)
ORDER BY seal_seq`;
}

/** Runs the digest query for seals fromSeq..toSeq of a table. */
export class SealDigestQuery {
  private readonly types = new Map<string, Map<string, string>>();

  constructor(private readonly clickhouse: ClickHouseClient) {}

  async digests(table: string, fromSeq: number, toSeq: number): Promise<Map<number, SealDigest>> {
    const types = await this.typesOf(table);
    const params = { a: fromSeq, b: toSeq };
    const result = await this.clickhouse.query({
      query: sealDigestQuery(table, types, await this.jsonPaths(table, types, params)),
      query_params: params,
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

  /** The paths each JSON column holds in the range, up to one more than MAX_BUILT_PATHS (then undefined). */
  private async jsonPaths(table: string, types: ReadonlyMap<string, string>, params: { a: number; b: number }): Promise<Map<string, string[]>> {
    const columns = jsonColumns(table, types);
    if (columns.length === 0) return new Map();
    const limit = MAX_BUILT_PATHS + 1;
    const result = await this.clickhouse.query({
      query: `SELECT ${columns.map((c, i) => `groupUniqArrayArray(${limit})(JSONAllPaths(\`${c}\`)) AS p${i}`).join(', ')} FROM ${table} WHERE seal_seq BETWEEN {a:UInt64} AND {b:UInt64}`,
      query_params: params,
      format: 'JSONEachRow',
    });
    const [row] = await result.json<Record<string, string[]>>();
    const paths = new Map<string, string[]>();
    columns.forEach((c, i) => {
      const found = row?.[`p${i}`] ?? [];
      if (found.length <= MAX_BUILT_PATHS) paths.set(c, found);
    });
    return paths;
  }

  private async typesOf(table: string): Promise<Map<string, string>> {
    let types = this.types.get(table);
    if (!types) {
      const result = await this.clickhouse.query({
        query: 'SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String}',
        query_params: { t: table },
        format: 'JSONEachRow',
      });
      types = new Map((await result.json<{ name: string; type: string }>()).map((c) => [c.name, c.type]));
      this.types.set(table, types);
    }
    return types;
  }
}
