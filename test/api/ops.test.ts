import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { AdminAccountService } from '../../src/features/admin/admin-account.service';
import { AdministratorRepository } from '../../src/features/admin/administrator.repository';
import { LoginGuard } from '../../src/features/auth/login-guard';
import { QUEUE_NAMES, type IngestJob } from '../../src/queues/queue-names';
import { api, signUp } from '../helpers/accounts';
import { captureLogs } from '../helpers/log-capture';
import { sample } from '../helpers/prometheus';
import { createApiKey, postEvents, startStack } from '../helpers/stack';
import { createNamespace, eventually, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('ops');
const { logger, lines: logLines } = captureLogs();

let stack: Awaited<ReturnType<typeof startStack>>;
let ingestKey: string;
let adminKey: string;
let redis: Redis;
let ingestQueue: Queue<IngestJob>;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' }, logger);
  ingestKey = await createApiKey(ns, 'ops-app', ['ingest']);
  adminKey = await createApiKey(ns, 'ops-admin', ['admin']);
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  ingestQueue = new Queue<IngestJob>(QUEUE_NAMES.ingest, { connection: redis, prefix: ns.queuePrefix });
});

afterAll(async () => {
  await ingestQueue?.close();
  await redis?.quit();
  await stack?.stop();
  await ns.cleanup();
});

async function scrape(headers: Record<string, string> = {}, url = stack.url): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${url}/metrics`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

const auditEvent = (extra: Record<string, unknown> = {}) => ({ kind: 'audit', event_type: 'profile_updated', user_id: 'ops-user', ...extra });

/** Log lines of one request, parsed. */
const linesOf = (requestId: string) => logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.requestId === requestId);

describe('/metrics', () => {
  it('counts accepted and rejected events, flushes and their lag, and reports queue depth and process metrics', async () => {
    const reused = randomUUID();
    const first = await postEvents(stack.url, ingestKey, [auditEvent(), auditEvent({ event_id: reused }), auditEvent(), { kind: 'audit' }]);
    expect(first.status).toBe(207);
    // The same event again is a duplicate; the same id with other content, a conflict.
    expect((await postEvents(stack.url, ingestKey, auditEvent({ event_id: reused }))).body.events[0]!.status).toBe('duplicate');
    expect((await postEvents(stack.url, ingestKey, auditEvent({ event_id: reused, user_id: 'someone-else' }))).status).toBe(409);

    const { status, type, text } = await eventually(async () => {
      const scraped = await scrape();
      return (sample(scraped.text, 'auditflow_ingest_lag_seconds_count', { table: 'audit_logs' }) ?? 0) > 0 && scraped;
    });
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(text, 'auditflow_events_accepted_total', { kind: 'audit' })).toBe(3);
    expect(sample(text, 'auditflow_events_rejected_total', { reason: 'invalid' })).toBe(1);
    expect(sample(text, 'auditflow_events_rejected_total', { reason: 'duplicate' })).toBe(1);
    expect(sample(text, 'auditflow_events_rejected_total', { reason: 'conflict' })).toBe(1);
    expect(sample(text, 'auditflow_events_rejected_total', { reason: 'rate_limited' })).toBe(0);
    expect(sample(text, 'auditflow_clickhouse_flush_rows_count', { table: 'audit_logs' })).toBeGreaterThan(0);
    expect(sample(text, 'auditflow_clickhouse_flush_rows_sum', { table: 'audit_logs' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'auditflow_clickhouse_flush_duration_seconds_count', { table: 'audit_logs' })).toBeGreaterThan(0);
    // Receipt to visibility takes at least the writer's 100 ms flush age, and surely less than a minute here.
    const lag = sample(text, 'auditflow_ingest_lag_seconds_sum', { table: 'audit_logs' })! / sample(text, 'auditflow_ingest_lag_seconds_count', { table: 'audit_logs' })!;
    expect(lag).toBeGreaterThanOrEqual(0.05);
    expect(lag).toBeLessThan(60);
    expect(sample(text, 'auditflow_queue_jobs', { queue: QUEUE_NAMES.ingest, state: 'waiting' })).toEqual(expect.any(Number));
    expect(sample(text, 'auditflow_queue_jobs', { queue: QUEUE_NAMES.ingest, state: 'failed' })).toBe(0);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toEqual(expect.any(Number));
  });

  it('reports the ingest queue depth as Redis holds it', async () => {
    // Where a paused queue's jobs wait depends on the BullMQ version: count both.
    const backlog = (text: string) =>
      (sample(text, 'auditflow_queue_jobs', { queue: QUEUE_NAMES.ingest, state: 'waiting' }) ?? NaN) + (sample(text, 'auditflow_queue_jobs', { queue: QUEUE_NAMES.ingest, state: 'paused' }) ?? NaN);
    await ingestQueue.pause();
    try {
      await postEvents(stack.url, ingestKey, auditEvent());
      await postEvents(stack.url, ingestKey, auditEvent());
      // Two jobs of ours, and perhaps one of the API's own api_access events.
      expect(backlog((await scrape()).text)).toBeGreaterThanOrEqual(2);
    } finally {
      await ingestQueue.resume();
    }
    await eventually(async () => backlog((await scrape()).text) === 0);
  });

  it('counts dead letters from flushes and from jobs that run out of attempts', async () => {
    const receivedAt = new Date().toISOString();
    const event = (extra: Record<string, unknown>) => ({ kind: 'audit', event_type: 'x', event_id: randomUUID(), occurred_at: receivedAt, user_id: 'ops-dlq', content_hash: 'h', ...extra });
    // Built behind the API's back: ClickHouse cannot store a duration of "abc".
    await ingestQueue.add('events', { batches: [{ sourceApp: 'ops-legacy', receivedAt, events: [event({ duration_ms: 'abc' })] as never }] });
    await eventually(async () => sample((await scrape()).text, 'auditflow_dead_letters_total', { reason: 'flush_rejected' }) === 1);

    await stack.clickhouse!.command({ query: 'RENAME TABLE rate_limit_violations TO rate_limit_violations_away' });
    try {
      const gone = { kind: 'rate_limit', event_id: randomUUID(), occurred_at: receivedAt, content_hash: 'h' };
      await ingestQueue.add('events', { batches: [{ sourceApp: 'ops-legacy', receivedAt, events: [gone, { ...gone, event_id: randomUUID() }] as never }] }, { attempts: 1 });
      await eventually(async () => sample((await scrape()).text, 'auditflow_dead_letters_total', { reason: 'attempts_exhausted' }) === 2, 30_000);
    } finally {
      await stack.clickhouse!.command({ query: 'RENAME TABLE rate_limit_violations_away TO rate_limit_violations' });
    }
    // What is stored, not only what this process counted since it started: survives a restart, drops after a replay.
    const stored = (await scrape()).text;
    expect(sample(stored, 'auditflow_dead_letters_stored', { state: 'total' })).toBe(3);
    expect(sample(stored, 'auditflow_dead_letters_stored', { state: 'pending' })).toBe(3);
  }, 60_000);

  it('answers only loopback clients when no METRICS_TOKEN is set', async () => {
    // The API trusts X-Forwarded-For from loopback, as from a local reverse proxy: this client is remote.
    const remote = await scrape({ 'x-forwarded-for': '203.0.113.9' });
    expect(remote.status).toBe(403);
    expect(remote.text).not.toContain('auditflow_events');
  });

  it('requires METRICS_TOKEN as a Bearer token when it is set, even from loopback', async () => {
    const token = 'metrics-token-0123456789';
    const apiOnly = await startStack(ns, { ROLE: 'api', METRICS_TOKEN: token }, logger);
    try {
      expect((await scrape({}, apiOnly.url)).status).toBe(401);
      expect((await scrape({ authorization: 'Bearer metrics-token-wrong-000' }, apiOnly.url)).status).toBe(401);
      const ok = await scrape({ authorization: `Bearer ${token}` }, apiOnly.url);
      expect(ok.status).toBe(200);
      // Queue depth comes from Redis, so an api-only process reports it too.
      expect(sample(ok.text, 'auditflow_queue_jobs', { queue: QUEUE_NAMES.ingest, state: 'waiting' })).toEqual(expect.any(Number));
      expect(logLines.join('')).not.toContain(token);
    } finally {
      await apiOnly.stop();
    }
  });
});

describe('request logs', () => {
  it('writes one JSON line per request with its request id, route, status and caller, and never the key', async () => {
    const requestId = `ops-${randomUUID()}`;
    const res = await fetch(`${stack.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify(auditEvent()),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toBe(requestId);

    const [line, ...more] = await eventually(async () => linesOf(requestId).length > 0 && linesOf(requestId));
    expect(more).toEqual([]);
    expect(line).toMatchObject({
      level: 30,
      msg: 'request completed',
      requestId,
      req: { method: 'POST', url: '/v1/events' },
      res: { statusCode: 202 },
      route: '/v1/events',
      ip: '127.0.0.1',
      actor: { type: 'api_key', id: expect.any(String) },
      responseTime: expect.any(Number),
    });
    expect(logLines.filter((l) => l.includes(ingestKey))).toEqual([]);
  });

  it('logs failures as warnings, hides credentials in the query string, and skips /healthz and /metrics', async () => {
    const failed = `ops-${randomUUID()}`;
    await fetch(`${stack.url}/no/such/route?password=hunter2-secret&page=2`, { headers: { 'x-request-id': failed } });
    const [line] = await eventually(async () => linesOf(failed).length > 0 && linesOf(failed));
    expect(line).toMatchObject({ level: 40, res: { statusCode: 404 }, req: { url: '/no/such/route?password=%5Bredacted%5D&page=2' } });
    expect(logLines.filter((l) => l.includes('hunter2-secret'))).toEqual([]);

    const quiet = `ops-${randomUUID()}`;
    await fetch(`${stack.url}/healthz`, { headers: { 'x-request-id': quiet } });
    await scrape({ 'x-request-id': quiet });
    // A request after them: once it is logged, theirs would have been too.
    const marker = `ops-${randomUUID()}`;
    await fetch(`${stack.url}/readyz`, { headers: { 'x-request-id': marker } });
    await eventually(async () => linesOf(marker).length > 0);
    expect(linesOf(quiet)).toEqual([]);
  });
});

describe('Bull Board at /admin/queues', () => {
  it('asks for credentials, and refuses keys without the admin scope and non-admin sessions', async () => {
    const anonymous = await fetch(`${stack.url}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    await anonymous.text();
    expect((await api(stack.url, 'GET', '/admin/queues/api/queues')).status).toBe(401);
    expect((await api(stack.url, 'GET', '/admin/queues', { token: ingestKey })).status).toBe(403);
    expect((await api(stack.url, 'GET', '/admin/queues', { token: 'af_not-a-key' })).status).toBe(401);
    const { token: userSession } = await signUp(stack.url, ns, 'ops-user@example.com');
    expect((await api(stack.url, 'GET', '/admin/queues', { token: userSession })).status).toBe(403);
  });

  it('serves the board to an admin-scope key, as Bearer or as the Basic-auth password, read-only', async () => {
    for (const authorization of [`Bearer ${adminKey}`, `Basic ${Buffer.from(`ops:${adminKey}`).toString('base64')}`]) {
      const page = await fetch(`${stack.url}/admin/queues`, { headers: { authorization } });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('www-authenticate')).toBeNull();
      const html = await page.text();
      expect(html).toContain('auditflow queues');
      expect(html).toContain('<base href="/admin/queues/"');
      // What the page loads sits behind the same guard; a browser resends the credentials by itself.
      const script = `/admin/queues/${/src="(static\/js\/main\.[^"]+)"/.exec(html)![1]}`;
      const asset = await fetch(`${stack.url}${script}`, { headers: { authorization } });
      expect(asset.status).toBe(200);
      expect((await asset.text()).length).toBeGreaterThan(1000);
      expect((await api(stack.url, 'GET', script)).status).toBe(401);
    }
    const bearer = { authorization: `Bearer ${adminKey}` };
    const listed = await api<{ queues: { name: string }[] }>(stack.url, 'GET', '/admin/queues/api/queues', { headers: bearer });
    expect(listed.status).toBe(200);
    expect(listed.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([QUEUE_NAMES.control, QUEUE_NAMES.ingest, QUEUE_NAMES.webhooks].sort());
    // Pausing the ingest queue from a browser would stop ingestion: refused.
    expect((await api(stack.url, 'PUT', `/admin/queues/api/queues/${QUEUE_NAMES.ingest}/pause`, { headers: bearer })).status).toBe(405);
    expect(await ingestQueue.isPaused()).toBe(false);
    expect(logLines.filter((l) => l.includes(adminKey))).toEqual([]);
  });

  it('serves the board to an administrator session', async () => {
    const pg = new Pool({ connectionString: ns.databaseUrl, max: 1 });
    try {
      await new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg)).create({ email: 'ops-admin@example.com', password: 'ops admin passphrase 42', admin_level: 3 });
    } finally {
      await pg.end();
    }
    const login = await api<{ token: string }>(stack.url, 'POST', '/admin/login', { body: { email: 'ops-admin@example.com', password: 'ops admin passphrase 42' } });
    expect(login.status).toBe(200);
    const page = await fetch(`${stack.url}/admin/queues`, { headers: { authorization: `Bearer ${login.body.token}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('auditflow queues');
  });
});
