import { randomUUID } from 'node:crypto';
import { toClickHouseRow, toClickHouseTime, type ClickHouseRow } from '../../src/domain/event-row';
import { toQueuedEvent } from '../../src/domain/queued-event';
import { openClickHouse, type ClickHouseClient } from '../../src/lib/clickhouse';
import { migrateClickHouse } from '../../src/lib/clickhouse-migrations';
import { parseEvent } from '../../src/schemas/event';
import { ClickHouseWriter } from '../../src/features/ingest/writer/clickhouse-writer';
import { DeadLetterRepository } from '../../src/features/ingest/dead-letters/dead-letter.repository';
import { storedRowsQueries } from '../../src/features/ingest/writer/stored-rows-query';
import { queryRows, silentLogger } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('lookback');
const MINUTE = 60_000;
const LOOKBACK_MINUTES = 30;
let clickhouse: ClickHouseClient;
let writer: ClickHouseWriter;

beforeAll(async () => {
  clickhouse = await openClickHouse(ns.config().clickhouse);
  await migrateClickHouse(clickhouse);
  writer = new ClickHouseWriter(clickhouse, new DeadLetterRepository(clickhouse), { maxRows: 10_000, maxAgeMs: 20, logger: silentLogger, lookbackMinutes: LOOKBACK_MINUTES });
});

afterAll(async () => {
  await writer?.close();
  await clickhouse?.close();
  await ns.cleanup();
});

/**
 * An audit event as the worker writes it, received at `receivedMs`. With `occurredMs` the client sent
 * occurred_at; without it the API filled in the time it received the event (not part of the content hash).
 */
function row(eventId: string, user: string, receivedMs: number, occurredMs?: number): ClickHouseRow {
  const raw = { kind: 'audit', event_type: 'profile_updated', event_id: eventId, user_id: user, ...(occurredMs === undefined ? {} : { occurred_at: new Date(occurredMs).toISOString() }) };
  const parsed = parseEvent(raw);
  if (!parsed.ok) throw new Error('bad fixture');
  const stored = toClickHouseRow(toQueuedEvent(parsed.event, raw), 'lookback-app', new Date(receivedMs).toISOString());
  if (occurredMs === undefined) stored.occurred_at = toClickHouseTime(new Date(receivedMs));
  return stored;
}

/** Another new event in the same flush: a flush of exactly the same ids would be dropped by ClickHouse's block deduplication (its token is the ids), not by the check. */
const companion = () => row(randomUUID(), 'companion', Date.now());

const copies = async (eventId: string) => (await queryRows<{ user_id: string }>(clickhouse, 'SELECT user_id FROM audit_logs WHERE event_id = {id:UUID}', { id: eventId })).map((r) => r.user_id);
const deadLetters = async (eventId: string) => (await queryRows<{ error: string }>(clickhouse, 'SELECT error FROM dead_letter_events WHERE event_id = {id:UUID}', { id: eventId })).map((r) => r.error);

describe("the writer's duplicate check, bounded by WRITER_LOOKBACK_MINUTES", () => {
  it('drops an event resent days after it was stored when it carries its occurred_at, and dead-letters one with other content', async () => {
    const id = randomUUID();
    const then = Date.now() - 3 * 24 * 60 * MINUTE;
    await writer.write('audit_logs', [row(id, 'alice', then, then - 1000)]);
    await writer.write('audit_logs', [row(id, 'alice', Date.now(), then - 1000), companion()]);
    expect(await copies(id)).toEqual(['alice']);
    await writer.write('audit_logs', [row(id, 'mallory', Date.now(), then - 1000), companion()]);
    expect(await copies(id)).toEqual(['alice']);
    expect(await deadLetters(id)).toEqual([expect.stringMatching(/conflict/)]);
  });

  it('drops a resend without occurred_at within the lookback, and stores one sent later than that again: the documented bound', async () => {
    const within = randomUUID();
    await writer.write('audit_logs', [row(within, 'bob', Date.now() - (LOOKBACK_MINUTES - 5) * MINUTE)]);
    await writer.write('audit_logs', [row(within, 'bob', Date.now()), companion()]);
    expect(await copies(within)).toEqual(['bob']);

    const beyond = randomUUID();
    await writer.write('audit_logs', [row(beyond, 'carol', Date.now() - (LOOKBACK_MINUTES + 5) * MINUTE)]);
    await writer.write('audit_logs', [row(beyond, 'carol', Date.now()), companion()]);
    expect(await copies(beyond)).toEqual(['carol', 'carol']);
  });

  it('drops a job retried hours after its first flush: the lookback counts from when its events were received', async () => {
    const id = randomUUID();
    const received = Date.now() - 5 * 60 * MINUTE;
    const retried = row(id, 'dave', received);
    await writer.write('audit_logs', [retried]);
    await writer.write('audit_logs', [{ ...retried }, companion()]);
    expect(await copies(id)).toEqual(['dave']);
  });

  it('reads only the granules received within the lookback, however much older history the table holds', async () => {
    // 200,000 rows received 1 to 30 days ago, written by ClickHouse itself: 24 or more granules of history.
    await clickhouse.command({
      query: `INSERT INTO audit_logs (event_id, source_app, event_type, occurred_at, received_at, content_hash, user_id, operation_status)
        SELECT generateUUIDv4(number), 'history', 'profile_updated', now64(3, 'UTC') - toIntervalMillisecond(86400000 + number * 12960) AS at, at,
          lower(hex(SHA256(toString(number)))), concat('user-', toString(number % 1000)), 'SUCCESS' FROM numbers(200000)`,
    });
    await writer.write(
      'audit_logs',
      Array.from({ length: 500 }, () => row(randomUUID(), 'erin', Date.now())),
    );
    const fresh = Array.from({ length: 5000 }, () => row(randomUUID(), 'frank', Date.now()));
    const [query] = storedRowsQueries('audit_logs', fresh, LOOKBACK_MINUTES * MINUTE);
    const plan = (await (await clickhouse.query({ query: `EXPLAIN indexes = 1 ${query}`, format: 'TabSeparatedRaw' })).text()).split('\n').map((l) => l.trim());
    const at = plan.indexOf('Name: idx_received_at');
    expect(at).toBeGreaterThan(0);
    const [kept, total] = /^Granules: (\d+)\/(\d+)$/
      .exec(plan.slice(at).find((l) => l.startsWith('Granules:'))!)!
      .slice(1)
      .map(Number);
    // The receipt-time index applies first, and keeps only the granules of the recent flushes (one each).
    expect(plan.indexOf('Name: idx_event_id')).toBeGreaterThan(at);
    expect(total).toBeGreaterThanOrEqual(25);
    expect(kept).toBeLessThanOrEqual(total! - 24);
    expect(kept).toBeLessThan(10);
    const result = await clickhouse.query({ query: query!, format: 'JSON' });
    const { statistics } = (await result.json()) as { statistics: { rows_read: number } };
    // Not one granule of history (8,192 rows each): only the recent flushes.
    expect(Number(statistics.rows_read)).toBeLessThan(8192);
  });
});
