import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuditflowClient, type AuditflowClientOptions, type AuditflowEvent, type Rejection } from '../../clients/typescript/src/index';
import { createApiKey, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('sdk');
let stack: Awaited<ReturnType<typeof startStack>>;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
});

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

interface Post {
  at: number;
  eventIds: string[];
}

/**
 * A local HTTP proxy in front of the real server: records every POST the
 * client makes and can answer the first ones itself (e.g. 503) instead of forwarding.
 */
async function startProxy(intercept: (postNumber: number) => { status: number; headers?: Record<string, string> } | undefined = () => undefined) {
  const posts: Post[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    posts.push({ at: Date.now(), eventIds: (JSON.parse(body) as { event_id: string }[]).map((e) => e.event_id) });
    const fake = intercept(posts.length);
    if (fake) {
      res.writeHead(fake.status, { 'content-type': 'application/json', ...fake.headers });
      res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'proxy says retry' } }));
      return;
    }
    const upstream = await fetch(`${stack.url}${req.url}`, {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? '', authorization: req.headers.authorization ?? '' },
      body,
    });
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(await upstream.text());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, posts, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const clients: AuditflowClient[] = [];
function client(options: Omit<AuditflowClientOptions, 'apiKey'> & { apiKey: string }) {
  const c = new AuditflowClient(options);
  clients.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

const auditEvent = (n: number): AuditflowEvent => ({ kind: 'audit', event_type: 'profile_updated', user_id: `sdk-user-${n}`, new_value: { n } });

async function storedCount(app: string) {
  const [row] = await queryRows<{ count: number; unique: number }>(
    stack.clickhouse!,
    'SELECT count() AS count, uniqExact(source_app, event_id) AS unique FROM audit_logs WHERE source_app = {app:String}',
    { app },
  );
  return { count: Number(row!.count), unique: Number(row!.unique) };
}

describe('@auditflow/client against a running server', () => {
  it('sends a batch as soon as it holds batchSize events, and the rest on flush()', async () => {
    const proxy = await startProxy();
    const key = await createApiKey(ns, 'sdk-size', ['ingest']);
    const c = client({ url: proxy.url, apiKey: key, batchSize: 5, flushIntervalMs: 60_000 });
    const ids = Array.from({ length: 12 }, (_, i) => c.log(auditEvent(i)));
    await eventually(async () => proxy.posts.length === 2);
    expect(proxy.posts.map((p) => p.eventIds.length)).toEqual([5, 5]);
    await c.flush();
    expect(proxy.posts.map((p) => p.eventIds.length)).toEqual([5, 5, 2]);
    expect(proxy.posts.flatMap((p) => p.eventIds)).toEqual(ids);
    await eventually(async () => (await storedCount('sdk-size')).count === 12);
    await proxy.close();
  });

  it('sends a partial batch once its first event is flushIntervalMs old', async () => {
    const proxy = await startProxy();
    const key = await createApiKey(ns, 'sdk-age', ['ingest']);
    const c = client({ url: proxy.url, apiKey: key, batchSize: 100, flushIntervalMs: 300 });
    const start = Date.now();
    c.log(auditEvent(1));
    c.log(auditEvent(2));
    c.log(auditEvent(3));
    expect(proxy.posts).toHaveLength(0);
    await eventually(async () => proxy.posts.length === 1);
    expect(proxy.posts[0]!.eventIds).toHaveLength(3);
    expect(proxy.posts[0]!.at - start).toBeGreaterThanOrEqual(290);
    await eventually(async () => (await storedCount('sdk-age')).count === 3);
    await proxy.close();
  });

  it('retries a 503 after its Retry-After, with the same event ids, and ClickHouse holds each event once', async () => {
    const proxy = await startProxy((n) => (n <= 2 ? { status: 503, headers: { 'retry-after': '1' } } : undefined));
    const key = await createApiKey(ns, 'sdk-retry', ['ingest']);
    const errors: Error[] = [];
    const c = client({ url: proxy.url, apiKey: key, batchSize: 100, initialBackoffMs: 1, onError: (e) => errors.push(e) });
    for (let i = 0; i < 20; i++) c.log(auditEvent(i));
    await c.flush();
    expect(errors).toEqual([]);
    expect(proxy.posts).toHaveLength(3);
    // Retry-After: 1 is honoured, not the 1 ms backoff.
    expect(proxy.posts[1]!.at - proxy.posts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(proxy.posts[2]!.at - proxy.posts[1]!.at).toBeGreaterThanOrEqual(950);
    expect(proxy.posts[1]!.eventIds).toEqual(proxy.posts[0]!.eventIds);
    expect(proxy.posts[2]!.eventIds).toEqual(proxy.posts[0]!.eventIds);
    const stored = await eventually(async () => {
      const s = await storedCount('sdk-retry');
      return s.count >= 20 && s;
    });
    expect(stored).toEqual({ count: 20, unique: 20 });
    await proxy.close();
  });

  it('retries after a network error without duplicating', async () => {
    // The first request reaches the server but its answer is lost: the retry must be a duplicate, not a second row.
    const proxy = await startProxy();
    const key = await createApiKey(ns, 'sdk-net', ['ingest']);
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (++calls === 1) throw new TypeError('fetch failed: socket hang up');
      return response;
    };
    const c = client({ url: proxy.url, apiKey: key, initialBackoffMs: 10, fetch: flaky });
    for (let i = 0; i < 4; i++) c.log(auditEvent(i));
    await c.flush();
    expect(proxy.posts).toHaveLength(2);
    await eventually(async () => (await storedCount('sdk-net')).count === 4);
    expect(await storedCount('sdk-net')).toEqual({ count: 4, unique: 4 });
    await proxy.close();
  });

  it('never retries another 4xx: a bad key is reported once through onError', async () => {
    const proxy = await startProxy();
    const errors: { error: Error; events: AuditflowEvent[] }[] = [];
    const c = client({ url: proxy.url, apiKey: 'not-a-key', initialBackoffMs: 1, onError: (error, events) => errors.push({ error, events }) });
    c.log(auditEvent(1));
    await c.flush();
    expect(proxy.posts).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toMatchObject({ status: 401 });
    expect(errors[0]!.events).toHaveLength(1);
    await proxy.close();
  });

  it('reports per-event refusals of a 207 through onRejected and stores the valid events', async () => {
    const key = await createApiKey(ns, 'sdk-207', ['ingest']);
    const rejected: Rejection[] = [];
    const c = client({ url: stack.url, apiKey: key, onRejected: (r) => rejected.push(...r) });
    c.log(auditEvent(1));
    const badId = c.log({ kind: 'audit', event_type: 'profile_updated', ip_address: 'not-an-ip' });
    await c.flush();
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ status: 'rejected', event: { event_id: badId }, errors: [{ path: 'ip_address' }] });
    await eventually(async () => (await storedCount('sdk-207')).count === 1);
  });

  it('drops the newest events when the buffer is full, counting them, and refuses events after close()', async () => {
    const proxy = await startProxy();
    const key = await createApiKey(ns, 'sdk-overflow', ['ingest']);
    const dropped: [AuditflowEvent, string][] = [];
    const c = client({ url: proxy.url, apiKey: key, maxBufferSize: 5, flushIntervalMs: 60_000, onDropped: (e, reason) => dropped.push([e, reason]) });
    const ids = Array.from({ length: 8 }, (_, i) => c.log(auditEvent(i)));
    expect(ids.slice(5)).toEqual([null, null, null]);
    expect(c.droppedCount).toBe(3);
    expect(dropped.map(([e, reason]) => [(e as { user_id: string }).user_id, reason])).toEqual([
      ['sdk-user-5', 'buffer_full'],
      ['sdk-user-6', 'buffer_full'],
      ['sdk-user-7', 'buffer_full'],
    ]);
    expect(c.bufferedCount).toBe(5);
    await c.close();
    expect(proxy.posts.flatMap((p) => p.eventIds)).toEqual(ids.slice(0, 5));
    expect(c.bufferedCount).toBe(0);
    expect(c.log(auditEvent(9))).toBeNull();
    expect(dropped.at(-1)![1]).toBe('closed');
    expect(c.droppedCount).toBe(4);
    await proxy.close();
  });

  it('flushes on beforeExit until close() removes the hook', async () => {
    const key = await createApiKey(ns, 'sdk-exit', ['ingest']);
    const before = process.listenerCount('beforeExit');
    const c = client({ url: stack.url, apiKey: key, flushIntervalMs: 60_000 });
    expect(process.listenerCount('beforeExit')).toBe(before + 1);
    c.log(auditEvent(1));
    process.emit('beforeExit', 0);
    await eventually(async () => (await storedCount('sdk-exit')).count === 1);
    await c.close();
    expect(process.listenerCount('beforeExit')).toBe(before);
  });

  it("logUserEvent drops in for seed 004's helper and lands in audit_logs with previous and new values", async () => {
    const key = await createApiKey(ns, 'sdk-user', ['ingest']);
    const c = client({ url: stack.url, apiKey: key });
    const positional = c.logUserEvent(
      'user-42',
      'account_suspended',
      { status: 'active' },
      { status: 'suspended' },
      {
        reason: 'Policy violation: spam detected in Bull Pen chat',
        triggeredByType: 'admin',
        triggeredById: 'admin-7',
        ipAddress: '203.0.113.9',
      },
    );
    // Seed 004's own call shape, through a detached function as the seed's helper is one.
    const { logUserEvent } = c;
    const objectForm = logUserEvent({
      userId: 'user-43',
      eventType: 'user_registered',
      previousValue: null,
      newValue: { email: 'a@example.com', auth_provider: 'google', status: 'pending_verification' },
      triggeredByType: 'user',
      triggeredById: 'user-43',
      ipAddress: '198.51.100.4',
    });
    await c.close();
    const rows = await eventually(async () => {
      const r = await queryRows(stack.clickhouse!, 'SELECT * FROM audit_logs WHERE source_app = {app:String} ORDER BY user_id', { app: 'sdk-user' });
      return r.length === 2 && r;
    });
    expect(rows[0]).toMatchObject({
      event_id: positional,
      event_type: 'account_suspended',
      user_id: 'user-42',
      previous_value: { status: 'active' },
      new_value: { status: 'suspended' },
      reason: 'Policy violation: spam detected in Bull Pen chat',
      triggered_by_type: 'admin',
      triggered_by_id: 'admin-7',
      ip_address: '203.0.113.9',
    });
    expect(rows[1]).toMatchObject({
      event_id: objectForm,
      event_type: 'user_registered',
      user_id: 'user-43',
      new_value: { email: 'a@example.com', auth_provider: 'google', status: 'pending_verification' },
      triggered_by_type: 'user',
      triggered_by_id: 'user-43',
    });
  });
});
