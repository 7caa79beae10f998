import { sqlStringLiteral } from '../../domain/analyst-settings';
import { quoteIdentifier } from '../../lib/clickhouse-identifier';
import type { SqlToken } from './analyst-query-policy';

/**
 * The query with each `{name:Type}` placeholder whose value was sent written
 * out as SQL: an `Identifier` as a quoted name, any other type as a string
 * literal cast to it, which ClickHouse reads in the type's text form as it
 * reads a bound value. Placeholders without a value are left for ClickHouse
 * to refuse.
 *
 * Why not bind them: chDB binds parameters for one query at a time in the
 * whole process (chdb-node serializes them, as its binding is not isolated
 * per connection), so an analyst's slow query with a parameter held every
 * parameterized read of the product (the dashboard, reports, the writer's
 * checks) until it ended. Written out, the query runs beside them.
 *
 * The values become literals or quoted names, never SQL (the caller refuses
 * a NUL in them); the result is parsed and judged again like any query.
 */
export function inlineQueryParameters(query: Buffer, tokens: SqlToken[], params: Record<string, string>): string | null {
  const significant = tokens.filter((t) => t.type !== 'Whitespace' && t.type !== 'Comment');
  let out = '';
  let copied = 0;
  for (let i = 0; i < significant.length; i++) {
    const open = significant[i]!;
    const name = significant[i + 1];
    if (open.type !== 'OpeningCurlyBrace' || name?.type !== 'BareWord' || significant[i + 2]?.type !== 'Colon') continue;
    // The type runs to the brace that closes the placeholder; its own brackets may nest (DateTime('UTC')).
    let depth = 0;
    let j = i + 3;
    for (; j < significant.length; j++) {
      const type = significant[j]!.type;
      if (type === 'OpeningRoundBracket') depth++;
      else if (type === 'ClosingRoundBracket') depth--;
      else if (type === 'ClosingCurlyBrace' && depth === 0) break;
    }
    const key = query.subarray(name.start, name.end).toString('utf8');
    if (j >= significant.length || j === i + 3 || !Object.hasOwn(params, key)) continue;
    const type = query.subarray(significant[i + 3]!.start, significant[j - 1]!.end).toString('utf8');
    const value = params[key]!;
    out += query.subarray(copied, open.start).toString('utf8');
    out += type === 'Identifier' ? quoteIdentifier(value) : `CAST(${sqlStringLiteral(value)} AS ${type})`;
    copied = significant[j]!.end;
    i = j;
  }
  return copied === 0 ? null : out + query.subarray(copied).toString('utf8');
}
