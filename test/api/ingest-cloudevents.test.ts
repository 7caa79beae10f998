import { CloudEvent, CONSTANTS, HTTP } from 'cloudevents';
import { derivedUuid } from '../../src/domain/derived-id';
import { createApiKey, type IngestBody, postEvents, type PostResult, queryRows, startStack } from '../helpers/stack';
import { bruteForce } from '../helpers/login-traffic';
import { createNamespace, eventually } from '../helpers/test-env';

// CloudEvents 1.0 over the HTTP binding, sent with the CloudEvents JS SDK as an app would.
const ns = createNamespace('ingestce');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

beforeAll(async () => {
  key = await createApiKey(ns, 'shop', ['ingest']);
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function send(message: { headers: Record<string, unknown>; body: unknown }): Promise<PostResult> {
  const response = await fetch(`${stack.url}/v1/events`, {
    method: 'POST',
    headers: { ...(message.headers as Record<string, string>), authorization: `Bearer ${key}` },
    body: message.body as string,
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as IngestBody };
}

async function rowsOf(table: string, eventId: string, expected = 1) {
  await stack.writer!.flushAll();
  return eventually(async () => {
    const rows = await queryRows<Record<string, unknown>>(stack.clickhouse!, `SELECT * FROM ${table} WHERE event_id = {id:UUID}`, { id: eventId });
    return rows.length >= expected && rows;
  });
}

function loginFailed(id: string, user: string) {
  return new CloudEvent({
    specversion: '1.0',
    id,
    source: 'https://shop.example.com/auth',
    type: 'com.acme.shop.auth.login_failed',
    subject: `user/${user}`,
    time: '2026-03-01T10:00:00.000Z',
    data: { user_id: user, ip_address: '203.0.113.9', user_agent: 'curl/8' },
  });
}

describe('CloudEvents on POST /v1/events', () => {
  it('binary mode: lands once in the kind named by type, with data as fields, time as occurred_at, source and subject kept', async () => {
    const event = loginFailed('ce-binary-1', 'u-bin');
    const res = await send(HTTP.binary(event));
    expect(res.status).toBe(202);
    const eventId = derivedUuid(`cloudevents\nhttps://shop.example.com/auth\nce-binary-1`);
    expect(res.body.events[0]).toMatchObject({ status: 'accepted', event_id: eventId });
    const rows = await rowsOf('auth_audit_log', eventId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      event_type: 'login_failed',
      event_status: 'FAILURE',
      user_id: 'u-bin',
      ip_address: '203.0.113.9',
      user_agent: 'curl/8',
      occurred_at: '2026-03-01 10:00:00.000',
      source_app: 'shop',
    });
    expect(rows[0]!.details).toEqual({ cloudevents: { source: 'https://shop.example.com/auth', subject: 'user/u-bin' } });
  });

  it('structured mode: the same mapping; sending the same CloudEvent again is a duplicate, not a second row', async () => {
    const event = new CloudEvent({
      id: 'order-42-updated',
      source: '/shop/orders',
      type: 'com.acme.shop.audit.order.updated',
      data: { user_id: 42, entity_type: 'order', entity_id: '42', new_value: { status: 'paid' }, metadata: { channel: 'web' } },
    });
    const first = await send(HTTP.structured(event));
    expect(first.status).toBe(202);
    const again = await send(HTTP.structured(event));
    expect(again.status).toBe(202);
    expect(again.body.events[0]).toMatchObject({ status: 'duplicate', event_id: first.body.events[0]!.event_id });
    const rows = await rowsOf('audit_logs', first.body.events[0]!.event_id!);
    await stack.writer!.flushAll();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event_type: 'order.updated', user_id: '42', entity_type: 'order', entity_id: '42' });
    expect(rows[0]!.metadata).toEqual({ channel: 'web', cloudevents: { source: '/shop/orders' } });
  });

  it('the same id from another source is another event', async () => {
    const a = await send(HTTP.structured(loginFailed('same-id', 'u-a')));
    const b = await send(HTTP.structured(new CloudEvent({ ...loginFailed('same-id', 'u-a'), source: 'https://other.example.com/' })));
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.body.events[0]!.status).toBe('accepted');
    expect(b.body.events[0]!.event_id).not.toBe(a.body.events[0]!.event_id);
  });

  it('batch mode: one result per CloudEvent; an invalid one is refused by name (207), the rest land', async () => {
    const good = loginFailed('ce-batch-1', 'u-batch');
    const noKind = new CloudEvent({ id: 'ce-batch-2', source: '/x', type: 'com.acme.shop.order_placed', data: { user_id: 'u' } });
    const badField = new CloudEvent({ id: 'ce-batch-3', source: '/x', type: 'com.acme.auth.login', data: { user_id: 'u', ip_address: 'not-an-ip' } });
    const res = await send({ headers: { 'content-type': CONSTANTS.MIME_CE_BATCH }, body: JSON.stringify([good, noKind, badField]) });
    expect(res.status).toBe(207);
    expect(res.body.events.map((e: { status: string }) => e.status)).toEqual(['accepted', 'rejected', 'rejected']);
    expect(res.body.events[1]!.errors![0]).toMatchObject({ path: 'type' });
    expect(res.body.events[2]!.errors![0]).toMatchObject({ path: 'ip_address' });
    expect(await rowsOf('auth_audit_log', res.body.events[0]!.event_id!)).toHaveLength(1);
  });

  it('refuses what is not a CloudEvent with 400 and the attribute at fault', async () => {
    const missing = await postEvents(stack.url, key, { specversion: '1.0', source: '/x', type: 'a.auth.login' }, { contentType: 'application/cloudevents+json' });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([{ index: 0, path: 'id', message: 'is required' }]);
    const base64 = await postEvents(stack.url, key, { specversion: '1.0', id: '1', source: '/x', type: 'a.auth.login', data_base64: 'e30=' }, { contentType: 'application/cloudevents+json' });
    expect(base64.status).toBe(400);
    const notArray = await postEvents(stack.url, key, { specversion: '1.0' }, { contentType: CONSTANTS.MIME_CE_BATCH });
    expect(notArray.status).toBe(400);
    const binaryNoType = await postEvents(stack.url, key, { user_id: 'u' }, { headers: { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': '/x' } });
    expect(binaryNoType.status).toBe(400);
    expect(binaryNoType.body.errors![0]).toMatchObject({ path: 'type', message: 'is required' });
  });

  it('hostile bodies get 4xx, never 5xx', async () => {
    const bodies: [string, string][] = [
      [CONSTANTS.MIME_CE_JSON, '{"specversion":'],
      [CONSTANTS.MIME_CE_JSON, '[]'],
      [CONSTANTS.MIME_CE_BATCH, '[1, null, "x", []]'],
      [CONSTANTS.MIME_CE_BATCH, `[${'{"specversion":"1.0","id":"1","source":"/x","type":"a.auth.login"},'.repeat(1001)}{}]`],
      [CONSTANTS.MIME_CE_JSON, JSON.stringify({ specversion: '1.0', id: '1', source: '/x', type: 'a.auth.login', data: { __proto__: { admin: true }, constructor: 1 } })],
      [CONSTANTS.MIME_CE_JSON, JSON.stringify({ specversion: '1.0', id: '1', source: '/x', type: 'a.auth.login', time: 'yesterday' })],
    ];
    for (const [contentType, body] of bodies) {
      const res = await postEvents(stack.url, key, body, { raw: true, contentType });
      expect({ body: body.slice(0, 60), status: res.status >= 400 && res.status < 500 }).toEqual({ body: body.slice(0, 60), status: true });
    }
    const badHeader = await postEvents(stack.url, key, {}, { headers: { 'ce-specversion': '1.0', 'ce-id': '%E0%A4%A', 'ce-source': '/x', 'ce-type': 'a.auth.login' } });
    expect(badHeader.status).toBeLessThan(500);
  });

  it('is risk-scored like the same events posted as JSON: brute force as a CloudEvents batch, decision for decision', async () => {
    const now = Date.now();
    const decisions = async (user: string) =>
      eventually(async () => {
        await stack.writer!.flushAll();
        const rows = await queryRows<Record<string, unknown>>(
          stack.clickhouse!,
          `SELECT event_type, event_status, risk_score, risk_level, risk_action FROM auth_audit_log WHERE user_id = {u:String} ORDER BY occurred_at`,
          { u: user },
        );
        return rows.length === 6 && rows.every((r) => r.risk_level !== null) && rows;
      });
    const json = bruteForce('status', { userId: 'bf-json', homeIp: '10.30.0.5', attackerIp: '198.18.40.1', attempts: 5, now });
    expect((await postEvents(stack.url, key, json)).status).toBe(202);
    const asCloudEvents = bruteForce('status', { userId: 'bf-ce', homeIp: '10.30.1.5', attackerIp: '198.18.40.2', attempts: 5, now }).map(
      ({ kind, event_type, timestamp, ...data }, i) =>
        new CloudEvent({ id: `bf-${i}`, source: '/portal/login', type: `com.acme.portal.${String(kind)}.${String(event_type)}`, time: String(timestamp), data }),
    );
    expect((await send({ headers: { 'content-type': CONSTANTS.MIME_CE_BATCH }, body: JSON.stringify(asCloudEvents) })).status).toBe(202);
    const [viaJson, viaCloudEvents] = [await decisions('bf-json'), await decisions('bf-ce')];
    expect(viaCloudEvents).toEqual(viaJson);
    expect(viaCloudEvents.at(-1)).toMatchObject({ event_status: 'FAILURE', risk_action: 'block' });
  });
});
