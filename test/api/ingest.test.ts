import { randomUUID } from 'node:crypto';
import { CATALOG_EVENT_TYPES } from '../../src/schemas/event-catalog';
import { EVENT_KINDS } from '../../src/schemas/event';
import { SEED_EVENTS, STORED_AS, storedForm } from '../fixtures/seed-events';
import { countUnique, createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('ingest');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', BODY_LIMIT_BYTES: '200000' });
  key = await createApiKey(ns, 'test-app', ['ingest']);
});

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function rowById(table: string, eventId: string) {
  return eventually(async () => (await queryRows(stack.clickhouse!, `SELECT * FROM ${table} WHERE event_id = {id:UUID}`, { id: eventId }))[0]);
}

describe('POST /v1/events', () => {
  it('stores every seed example row with every value intact, and records the source app', async () => {
    const events = Object.values(SEED_EVENTS);
    const res = await postEvents(stack.url, key, events);
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(events.length);

    for (const [seedTable, raw] of Object.entries(SEED_EVENTS)) {
      const table = EVENT_KINDS[raw.kind].table;
      const eventId = ('event_id' in raw ? raw.event_id : raw.id) as string;
      const row = await rowById(table, eventId);
      expect(row.source_app).toBe('test-app');
      for (const [field, value] of Object.entries(raw)) {
        if (field === 'kind') continue;
        const column = STORED_AS[field] ?? field;
        const expected = storedForm(column, value);
        if (column === 'event_type' || column === 'severity_level') {
          expect(`${seedTable}.${column}=${String(row[column]).toLowerCase()}`).toBe(`${seedTable}.${column}=${String(expected).toLowerCase()}`);
        } else {
          expect({ [`${seedTable}.${column}`]: row[column] }).toEqual({ [`${seedTable}.${column}`]: expected });
        }
      }
    }
  });

  it('accepts every catalog event type and answers 202 with each event id', async () => {
    const events = [...CATALOG_EVENT_TYPES.keys()].map((type) => ({
      kind: 'audit',
      event_type: type,
      event_id: randomUUID(),
      user_id: 'catalog-user',
      new_value: { type },
    }));
    const res = await postEvents(stack.url, key, events);
    expect(res.status).toBe(202);
    expect(res.body.events.map((e) => e.event_id)).toEqual(events.map((e) => e.event_id));
    expect(res.body.events.every((e: { warnings?: unknown }) => e.warnings === undefined)).toBe(true);
    const rows = await eventually(async () => {
      const r = await queryRows<{ event_type: string; t: string }>(stack.clickhouse!, `SELECT event_type, toString(new_value.type) AS t FROM audit_logs WHERE user_id = 'catalog-user'`);
      return r.length === events.length && r;
    });
    expect(new Set(rows.map((r) => r.event_type))).toEqual(new Set(CATALOG_EVENT_TYPES.keys()));
    expect(rows.every((r) => r.t === r.event_type)).toBe(true);
  });

  it('stores an event type outside the catalog as sent, with a warning', async () => {
    const res = await postEvents(stack.url, key, { kind: 'audit', event_type: 'invoice_paid', user_id: 'u-x' });
    expect(res.status).toBe(202);
    expect(res.body.events[0]!.warnings![0]).toMatch(/not in the catalog/);
    await rowById('audit_logs', res.body.events[0]!.event_id!);
  });

  it('answers 207 for a partly valid batch and queues only the valid events', async () => {
    const good = randomUUID();
    const res = await postEvents(stack.url, key, [
      { kind: 'audit', event_type: 'logout', event_id: good, user_id: 'u207' },
      { kind: 'audit', event_type: 'logout', user_id: 'u207', ip_address: 'nope' },
    ]);
    expect(res.status).toBe(207);
    expect(res.body.events[0]).toMatchObject({ index: 0, status: 'accepted', event_id: good });
    expect(res.body.events[1]).toMatchObject({ index: 1, status: 'rejected', errors: [{ path: 'ip_address' }] });
    await rowById('audit_logs', good);
    await new Promise((r) => setTimeout(r, 300));
    const rows = await queryRows(stack.clickhouse!, `SELECT event_id FROM audit_logs WHERE user_id = 'u207'`);
    expect(rows).toHaveLength(1);
  });

  it('answers 400 when no event is valid, giving index, field path and message', async () => {
    const res = await postEvents(stack.url, key, [{ kind: 'audit' }, { kind: 'auth', event_type: 'login', risk_score: 500 }]);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { index: 0, path: 'event_type', message: 'is required for kind "audit"' },
      { index: 1, path: 'risk_score', message: expect.stringMatching(/100/) },
    ]);
  });

  it('answers 400 for malformed JSON and for an empty batch', async () => {
    expect((await postEvents(stack.url, key, '{"kind":', { raw: true })).status).toBe(400);
    const empty = await postEvents(stack.url, key, []);
    expect(empty.status).toBe(400);
    expect(empty.body.error!.code).toBe('VALIDATION_FAILED');
  });

  it('answers 401 without a key or with a wrong one, 403 without the ingest scope', async () => {
    const event = { kind: 'audit', event_type: 'logout' };
    expect((await postEvents(stack.url, null, event)).status).toBe(401);
    expect((await postEvents(stack.url, 'af_not-a-key', event)).status).toBe(401);
    const queryOnly = await createApiKey(ns, 'analyst', ['query']);
    const forbidden = await postEvents(stack.url, queryOnly, event);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error!.message).toMatch(/ingest/);
  });

  it('answers 413 for a body over the limit or more than 1000 events', async () => {
    const big = await postEvents(stack.url, key, { kind: 'audit', event_type: 'x', reason: 'a'.repeat(300_000) });
    expect(big.status).toBe(413);
    const many = await postEvents(
      stack.url,
      key,
      Array.from({ length: 1001 }, () => ({ kind: 'audit', event_type: 'x' })),
    );
    expect(many.status).toBe(413);
    expect(many.body.error!.message).toMatch(/1000/);
  });

  it('answers 415 when the body is not JSON', async () => {
    const res = await postEvents(stack.url, key, 'kind=audit', { raw: true, contentType: 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
  });

  it('never creates a second row for a reposted event_id, and refuses the same id with other content', async () => {
    const eventId = randomUUID();
    const event = { kind: 'auth', event_type: 'login_success', event_id: eventId, user_id: 'repost-user', ip_address: '10.0.0.1' };
    const first = await postEvents(stack.url, key, event);
    expect(first.status).toBe(202);
    const again = await postEvents(stack.url, key, { ...event });
    expect(again.status).toBe(202);
    expect(again.body.events[0]!.status).toBe('duplicate');
    const changed = await postEvents(stack.url, key, { ...event, ip_address: '10.0.0.2' });
    expect(changed.status).toBe(409);
    // The same content in other words (seed alias, key order) is still the same event.
    const { event_id: _id, ip_address, ...rest } = event;
    const reworded = await postEvents(stack.url, key, { ip_address, id: eventId, ...rest });
    expect(reworded.body.events[0]!.status).toBe('duplicate');
    await rowById('auth_audit_log', eventId);
    // A batch repeating the id inside itself.
    const twice = await postEvents(stack.url, key, [event, event]);
    expect(twice.body.events.map((e: { status: string }) => e.status)).toEqual(['duplicate', 'duplicate']);
    await new Promise((r) => setTimeout(r, 400));
    const rows = await queryRows(stack.clickhouse!, `SELECT ip_address FROM auth_audit_log WHERE user_id = 'repost-user'`);
    expect(rows).toEqual([{ ip_address: '10.0.0.1' }]);
  });

  it('records each ingest request as an api_access row with its API key', async () => {
    const res = await postEvents(stack.url, key, { kind: 'audit', event_type: 'logout', user_id: 'access-check' });
    const requestId = res.headers.get('x-request-id')!;
    const [row] = await eventually(async () => {
      const r = await queryRows<{ endpoint: string; response_status: number; api_key_id: string }>(
        stack.clickhouse!,
        'SELECT endpoint, response_status, api_key_id FROM api_access_log WHERE request_headers.`x-request-id` = {id:String}',
        { id: requestId },
      );
      return r.length > 0 && r;
    });
    expect(row).toMatchObject({ endpoint: '/v1/events', response_status: 202 });
    expect(row!.api_key_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps count() equal to uniqExact(source_app, event_id) in every table', async () => {
    await stack.writer!.flushAll();
    for (const { table } of Object.values(EVENT_KINDS)) {
      const { count, unique } = await countUnique(stack.clickhouse!, table);
      expect({ table, count }).toEqual({ table, count: unique });
    }
  });
});
