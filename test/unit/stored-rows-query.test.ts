import { randomUUID } from 'node:crypto';
import { storedRowsQueries } from '../../src/features/ingest/writer/stored-rows-query';

const MINUTE = 60_000;
const now = Date.UTC(2026, 11, 5, 10, 0, 0);
const LOOKBACK = 30 * MINUTE;
const text = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

const row = (occurredMs: number, receivedMs = now, id: string = randomUUID()) => ({ event_id: id, source_app: 'app', occurred_at: text(occurredMs), received_at: text(receivedMs) });

describe("the writer's duplicate check", () => {
  it('looks only at rows received within the lookback before the oldest incoming row, when the events are recent', () => {
    const rows = [row(now - 2000), row(now - 1000, now - 60_000)];
    const [query, ...more] = storedRowsQueries('audit_logs', rows, LOOKBACK, now);
    expect(more).toEqual([]);
    expect(query).toContain(`received_at >= toDateTime64('${text(now - 60_000 - LOOKBACK)}', 3, 'UTC')`);
    expect(query).toContain(`event_id IN (SELECT toUUID(arrayJoin(splitByChar(',', '${rows[0]!.event_id},${rows[1]!.event_id}'))))`);
    expect(query).not.toContain('UNION ALL');
    expect(query).not.toContain('occurred_at');
  });

  it('anchors the lookback on when a row was received, so a job retried hours later still finds its first copy', () => {
    const retried = row(now - 3 * 60 * MINUTE, now - 3 * 60 * MINUTE);
    const [query] = storedRowsQueries('audit_logs', [retried], LOOKBACK, now);
    expect(query).toContain(`received_at >= toDateTime64('${text(now - 3 * 60 * MINUTE - LOOKBACK)}', 3, 'UTC')`);
  });

  it('also looks, at any age, for rows with the same occurred_at as an old event or one dated ahead of the clock', () => {
    const recent = row(now - 1000);
    const old = row(now - 10 * 24 * 60 * MINUTE);
    const ahead = row(now + 60 * MINUTE);
    const [query] = storedRowsQueries('audit_logs', [recent, old, ahead], LOOKBACK, now);
    const [first, second] = query!.split(' UNION ALL ');
    expect(first).toContain(`'${recent.event_id},${old.event_id},${ahead.event_id}'`);
    expect(second).toContain(`occurred_at IN ('${old.occurred_at}','${ahead.occurred_at}')`);
    expect(second).toContain(`event_id IN ('${old.event_id}','${ahead.event_id}')`);
  });

  it('leaves events within the lookback, less the allowance for a fast client clock, to the receipt-time arm', () => {
    const edge = row(now - LOOKBACK + 5 * MINUTE + 1000);
    const past = row(now - LOOKBACK + 5 * MINUTE - 1000);
    const [query] = storedRowsQueries('audit_logs', [edge, past], LOOKBACK, now);
    expect(query!.split(' UNION ALL ')[1]).toContain(`event_id IN ('${past.event_id}')`);
  });

  it('splices nothing but UUIDs and DateTime64 text', () => {
    const hostile = { event_id: "x') OR 1=1 --", source_app: 'app', occurred_at: "2020-01-01 00:00:00.000') OR ('1", received_at: text(now) };
    const ok = row(now - 10 * 24 * 60 * MINUTE);
    const queries = storedRowsQueries('audit_logs', [hostile, { ...ok, occurred_at: "1' OR '1" }], LOOKBACK, now);
    expect(queries).toHaveLength(1);
    expect(queries[0]).not.toContain('OR 1=1');
    expect(queries[0]).not.toContain("OR '1");
    expect(queries[0]).not.toContain('UNION ALL');
    expect(storedRowsQueries('audit_logs', [hostile], LOOKBACK, now)).toEqual([]);
  });

  it('splits 12,000 ids into statements of at most 5,000, each under the 256 KiB max_query_size, old events included', () => {
    const recent = storedRowsQueries(
      'audit_logs',
      Array.from({ length: 12_000 }, () => row(now - 1000)),
      LOOKBACK,
      now,
    );
    expect(recent).toHaveLength(3);
    const old = storedRowsQueries(
      'audit_logs',
      Array.from({ length: 12_000 }, (_, i) => row(now - 10 * 24 * 60 * MINUTE - i)),
      LOOKBACK,
      now,
    );
    expect(old.length).toBeGreaterThan(3);
    for (const query of [...recent, ...old]) expect(Buffer.byteLength(query!)).toBeLessThan(256 * 1024);
    const ids = old.flatMap((q) => [...q.split(' UNION ALL ')[0]!.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)].map((m) => m[0]));
    expect(new Set(ids).size).toBe(12_000);
  });
});
