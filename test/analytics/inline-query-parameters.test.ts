import { query as chdbQuery } from 'chdb';
import { inlineQueryParameters } from '../../src/features/analyst/inline-query-parameters';
import type { SqlToken } from '../../src/features/analyst/analyst-query-policy';

/** ClickHouse's own lexer (chDB, stateless), as the analyst runner gets its tokens. */
function tokens(sql: string): SqlToken[] {
  const text = chdbQuery(`SELECT arrayMap(t -> (toUInt32(t.1), toUInt32(t.2), t.3), tokenizeQuery(${literal(sql)})) AS t`, 'JSONEachRow');
  return (JSON.parse(text) as { t: [number, number, string][] }).t.map(([start, end, type]) => ({ start: Number(start), end: Number(end), type }));
}

function literal(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function inline(sql: string, params: Record<string, string>): string | null {
  return inlineQueryParameters(Buffer.from(sql), tokens(sql), params);
}

/** What ClickHouse answers for a query without parameters. */
function run(sql: string): string {
  return chdbQuery(sql, 'TSV').trim();
}

describe('inlineQueryParameters', () => {
  it('writes values as literals cast to their type, and names as quoted identifiers, with what ClickHouse reads from bound values', () => {
    const sql = `SELECT {s:String}, {n : UInt32} + 1, {d:DateTime('UTC')}, {a:Array(String)}, {m:Nullable(Int8)} FROM {db:Identifier}.{t:Identifier} LIMIT {k:UInt8}`;
    const text = inline(sql, { s: "it's a\ttab \\ back", n: '41', d: '2026-01-02 03:04:05', a: "['x','y']", m: '-3', db: 'system', t: 'one', k: '1' });
    expect(text).toBe(
      `SELECT CAST('it\\'s a\ttab \\\\ back' AS String), CAST('41' AS UInt32) + 1, CAST('2026-01-02 03:04:05' AS DateTime('UTC')), CAST('[\\'x\\',\\'y\\']' AS Array(String)), CAST('-3' AS Nullable(Int8)) FROM \`system\`.\`one\` LIMIT CAST('1' AS UInt8)`,
    );
    expect(run(text!)).toBe("it\\'s a\\ttab \\\\ back\t42\t2026-01-02 03:04:05\t['x','y']\t-3");
  });

  it('never lets a value become SQL', () => {
    const text = inline('SELECT {s:String} AS v FROM {t:Identifier}', { s: "x' UNION ALL SELECT name FROM system.users --", t: 'one`; DROP TABLE x; --' });
    expect(text).toBe("SELECT CAST('x\\' UNION ALL SELECT name FROM system.users --' AS String) AS v FROM `one\\`; DROP TABLE x; --`");
    expect(() => run(text!)).toThrow(/UNKNOWN_TABLE|doesn't exist|does not exist/);
  });

  it('leaves placeholders without a value, and text that only looks like one, as they are', () => {
    expect(inline("SELECT '{s:String}', {t:UInt8} -- {s:String}", { s: 'x' })).toBeNull();
    expect(inline('SELECT {s:String}, {t:UInt8}', { s: 'x' })).toBe("SELECT CAST('x' AS String), {t:UInt8}");
  });
});
