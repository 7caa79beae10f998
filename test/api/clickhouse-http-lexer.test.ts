/**
 * The unit tests of the /clickhouse query policy (test/unit/analyst-query-policy.test.ts)
 * tokenize with a small stand-in for ClickHouse's lexer. Here they run again with
 * ClickHouse's own tokenizeQuery (embedded chDB, the query bound as a parameter as
 * parseWithClickHouse does), so the stand-in cannot drift from what production reads.
 */
jest.mock('../unit/support/clickhouse-lexer', () => {
  const { queryBind } = jest.requireActual<typeof import('chdb')>('chdb');
  return {
    tokenize: (sql: string) => {
      const out = queryBind('SELECT arrayMap(t -> (toUInt32(t.1), toUInt32(t.2), t.3), tokenizeQuery({q:String})) AS tokens', { q: sql }, 'JSONEachRow');
      const { tokens } = JSON.parse(out) as { tokens: [number, number, string][] };
      return tokens.map(([start, end, type]) => ({ start, end, type }));
    },
  };
});

require('../unit/analyst-query-policy.test');
