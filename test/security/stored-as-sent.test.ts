/**
 * Values answered 202 and then stored as something else, or not at all.
 *
 * 1. A JSON column whose members name one ClickHouse path twice (`{"a.b": 1, "a": {"b": 2}}`:
 *    ClickHouse's JSON type splits keys at dots) was accepted, and then refused by ClickHouse
 *    ("Duplicate path found during parsing JSON object") and dead-lettered.
 * 2. Any top-level text field holding an ISO 8601 UTC instant (`reason: "2025-06-21T14:12:00Z"`)
 *    was rewritten into ClickHouse's DateTime text form (`2025-06-21 14:12:00`) on its way to the
 *    row, as if it were a date column.
 * 3. A date that does not exist, sent with a UTC offset (`2025-02-30T00:00:00+01:00`), rolled over
 *    into March, while the same date with `Z` or no offset is refused.
 */
import { randomUUID } from 'node:crypto';
import { createApiKey, drainIngest, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('stored-as-sent');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  key = await createApiKey(ns, 'values-app');
});

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function send(route: string, body: string, contentType = 'application/json'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.url}${route}`, { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${key}` }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('values stored as sent, or refused', () => {
  it('refuses a JSON column whose members name the same dotted path twice, in every format, and dead-letters nothing', async () => {
    const event = (user: string, metadata: unknown) => ({ kind: 'audit', event_type: 'dup_path', event_id: randomUUID(), user_id: user, metadata });
    const batch = await postEvents(stack.url, key, [
      event('dup-ok', { a: { b: 1 }, 'c.d': 2, e: [{ f: 1 }, { f: 2 }] }),
      event('dup-top', { 'a.b': 1, a: { b: 2 } }),
      event('dup-nested', { x: { 'a.b': 1, a: { b: 2 } } }),
      event('dup-array', { list: [{ 'a.b': 1, a: { b: 2 } }] }),
      event('dup-string', '{"a.b":1,"a":{"b":2}}'),
      { kind: 'audit', event_type: 'dup_path', event_id: randomUUID(), user_id: 'dup-new-value', new_value: { 'status.code': 1, status: { code: 2 } } },
    ]);
    expect(batch.status).toBe(207);
    expect(batch.body.events.map((e) => e.status)).toEqual(['accepted', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
    expect(batch.body.events[1]!.errors![0]).toMatchObject({ path: 'metadata', message: expect.stringMatching(/a\.b/) });

    // OTLP: an unmapped attribute `a.b` next to a map attribute `a` holding `b` land in one otel.attributes object.
    const otlp = await send(
      '/v1/logs',
      JSON.stringify({
        resourceLogs: [
          {
            scopeLogs: [
              {
                logRecords: [
                  {
                    timeUnixNano: '1772438400000000000',
                    eventName: 'audit.dup_path',
                    attributes: [
                      { key: 'user.id', value: { stringValue: 'dup-otlp' } },
                      { key: 'a.b', value: { intValue: '1' } },
                      { key: 'a', value: { kvlistValue: { values: [{ key: 'b', value: { intValue: '2' } }] } } },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(otlp.status).toBe(200);
    expect(otlp.body.partialSuccess).toMatchObject({ rejectedLogRecords: 1 });

    await drainIngest(stack, ns);
    const dead = await queryRows<{ error: string }>(stack.clickhouse!, `SELECT substring(error, 1, 150) AS error FROM dead_letter_events WHERE event_type = 'dup_path'`);
    expect(dead).toEqual([]);
    const stored = await queryRows<{ user_id: string }>(stack.clickhouse!, `SELECT user_id FROM audit_logs WHERE event_type = 'dup_path' ORDER BY user_id`);
    expect(stored).toEqual([{ user_id: 'dup-ok' }]);
  });

  it('stores a text field that holds an ISO 8601 instant exactly as sent', async () => {
    const eventId = randomUUID();
    const instant = '2025-06-21T14:12:00Z';
    const res = await postEvents(stack.url, key, {
      kind: 'audit',
      event_type: 'iso_text',
      event_id: eventId,
      user_id: instant,
      reason: instant,
      entity_id: '2025-06-21T14:12:00.5Z',
      session_id: '1999-12-31T23:59:59.999Z',
      occurred_at: '2025-06-21T14:12:00.250Z',
    });
    expect(res.status).toBe(202);
    await drainIngest(stack, ns);
    const rows = await queryRows(stack.clickhouse!, 'SELECT user_id, reason, entity_id, session_id, toString(occurred_at) AS occurred_at FROM audit_logs WHERE event_id = {id:UUID}', {
      id: eventId,
    });
    expect(rows).toEqual([{ user_id: instant, reason: instant, entity_id: '2025-06-21T14:12:00.5Z', session_id: '1999-12-31T23:59:59.999Z', occurred_at: '2025-06-21 14:12:00.250' }]);
  });

  it('refuses a date that does not exist whatever its offset, as it does with Z', async () => {
    const event = (occurred_at: string) => ({ kind: 'audit', event_type: 'calendar_check', user_id: 'calendar', occurred_at });
    const withZ = await postEvents(stack.url, key, event('2025-02-30T00:00:00Z'));
    expect(withZ.status).toBe(400);
    for (const sent of ['2025-02-30T00:00:00+01:00', '2025-02-29T12:00:00-05:00', '2025-04-31T10:00:00+0200', '2025-06-31 08:00:00+00:00']) {
      const res = await postEvents(stack.url, key, event(sent));
      expect([sent, res.status, res.body.errors?.[0]?.path]).toEqual([sent, 400, 'occurred_at']);
    }
    // Real dates with an offset are taken, and stored as the instant they name.
    const real = await postEvents(stack.url, key, { ...event('2024-02-29T00:30:00+01:00'), event_id: randomUUID() });
    expect(real.status).toBe(202);
    await drainIngest(stack, ns);
    const stored = await queryRows(stack.clickhouse!, `SELECT toString(occurred_at) AS occurred_at FROM audit_logs WHERE event_type = 'calendar_check'`);
    expect(stored).toEqual([{ occurred_at: '2024-02-28 23:30:00.000' }]);
  });
});
