import type { SqlToken } from './analyst-query-policy';
import type { ClickHouseClient } from '../../lib/clickhouse';

/** A query as ClickHouse's own parser reads it. */
export interface ParsedQuery {
  /** formatQuerySingleLine: one statement, no comments, no inline data. */
  canonical: string;
  tokens: SqlToken[];
}

/**
 * Asks ClickHouse to parse a query without running it: the text travels as
 * a bound parameter, never as SQL. Throws ClickHouse's SYNTAX_ERROR for a
 * query that does not parse or holds more than one statement.
 */
export async function parseWithClickHouse(client: ClickHouseClient, query: string): Promise<ParsedQuery> {
  try {
    const result = await client.query({
      query: 'SELECT formatQuerySingleLine({q:String}) AS canonical, arrayMap(t -> (toUInt32(t.1), toUInt32(t.2), t.3), tokenizeQuery({q:String})) AS tokens',
      query_params: { q: query },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ canonical: string; tokens: [number, number, string][] }>();
    return { canonical: row!.canonical, tokens: row!.tokens.map(([start, end, type]) => ({ start, end, type })) };
  } catch (error) {
    // The message would end with our wrapping query (": In scope SELECT formatQuerySingleLine('…')"); the analyst wrote only theirs.
    if (error instanceof Error) error.message = error.message.replace(/\s*:?\s*In scope SELECT formatQuerySingleLine[\s\S]*$/, ' ');
    throw error;
  }
}

/** EXPLAIN AST of a canonical query, one line per node. Parameters are bound: the AST holds their values. */
export async function explainAst(client: ClickHouseClient, canonical: string, params: Record<string, string>): Promise<string[]> {
  const result = await client.exec({
    query: `EXPLAIN AST ${canonical}`,
    query_params: params,
    // Through chDB this becomes the engine's output format, not a SET on the shared session.
    clickhouse_settings: { default_format: 'JSONEachRow' },
  });
  const text = (await readAll(result.stream)).toString('utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { explain: string }).explain);
}

/** A response stream, whole. */
export async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
