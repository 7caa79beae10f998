import { compactRows } from '../../src/features/ingest/writer/compact-rows';
import { quoteIdentifier } from '../../src/lib/clickhouse-identifier';

describe('compactRows: a batch in JSONCompactEachRow shape', () => {
  it('lists every key any row has, once, in first-seen order, and gives each row its values in that order', () => {
    const { columns, values } = compactRows([
      { event_id: 'a', user_id: 'u1' },
      { user_id: 'u2', event_id: 'b', reason: 'r' },
    ]);
    expect(columns).toEqual(['event_id', 'user_id', 'reason']);
    expect(values).toEqual([
      ['a', 'u1', null],
      ['b', 'u2', 'r'],
    ]);
  });

  it('treats an undefined value as an absent key, and keeps null, zero, false and nested values as they are', () => {
    const metadata = { ip: '10.0.0.1', tags: ['x'] };
    const { columns, values } = compactRows([{ a: undefined, b: null, c: 0, d: false, e: '', metadata }]);
    expect(columns).toEqual(['b', 'c', 'd', 'e', 'metadata']);
    expect(values).toEqual([[null, 0, false, '', metadata]]);
    expect(values[0]![4]).toBe(metadata);
  });

  it('keeps a hostile key as it is, for the insert to quote', () => {
    const { columns } = compactRows([{ 'x`) SELECT 1 --': 1 }]);
    expect(columns).toEqual(['x`) SELECT 1 --']);
  });

  it('gives no columns and no values for no rows', () => {
    expect(compactRows([])).toEqual({ columns: [], values: [] });
  });
});

describe('quoteIdentifier', () => {
  it('escapes backquotes and backslashes, and nothing else', () => {
    expect(quoteIdentifier('event_id')).toBe('`event_id`');
    expect(quoteIdentifier('a`b')).toBe('`a\\`b`');
    expect(quoteIdentifier('a\\b')).toBe('`a\\\\b`');
    expect(quoteIdentifier("it's")).toBe("`it's`");
  });
});
