import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { QUEUE_NAMES, type IngestJob } from '../../src/queues/queue-names';
import { EVENT_TABLES } from '../../src/schemas/event';
import { api, type ErrorBody, type JsonResponse, lastMailTo, signUp, tokenFromMail } from '../helpers/accounts';
import { sample } from '../helpers/prometheus';
import { ThrowawayRedis } from '../helpers/redis-server';
import { expectStoredOnce, spoolDir, spooledEvents, spoolSegments } from '../helpers/spool';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('spool');
let redis: ThrowawayRedis;

beforeAll(async () => {
  redis = await ThrowawayRedis.start();
});
afterAll(async () => {
  await redis.stop();
  await ns.cleanup();
});

/** Where an event may carry the id of the request that made it. */
interface RequestIdHolders {
  details?: { request_id?: string };
  metadata?: { request_id?: string };
  technical_details?: { request_id?: string };
  request_headers?: Record<string, string | undefined>;
}

/** The request id an event carries: auth events in details, errors in technical_details, api_access in its headers. */
function requestIdOf(event: RequestIdHolders): string | undefined {
  return event.details?.request_id ?? event.metadata?.request_id ?? event.technical_details?.request_id ?? event.request_headers?.['x-request-id'];
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

it('records the API’s own events on disk while Redis is down, answers the users, and replays them in order, exactly once', async () => {
  const stack = await startStack(ns, { ROLE: 'api', REDIS_URL: redis.url });
  let queue: Queue<IngestJob> | undefined;
  let worker: Awaited<ReturnType<typeof startStack>> | undefined;
  try {
    await redis.stop();
    const email = `spool-${randomUUID()}@example.com`;
    const password = 'correct horse battery staple';

    /** Sends a request while Redis is down, and checks, the moment it is answered, that its events are on disk. */
    const acknowledged: { requestId: string; response: JsonResponse }[] = [];
    const call = async <T = unknown>(method: string, route: string, options: { body?: unknown; token?: string }, expectedStatus: number, expectedTypes: string[]) => {
      const requestId = `spool-${acknowledged.length}-${randomUUID()}`;
      const response = await api<T>(stack.url, method, route, { ...options, headers: { 'x-request-id': requestId } });
      const onDisk = spooledEvents(ns.dataDir).filter((e) => requestIdOf(e as RequestIdHolders) === requestId);
      expect(response.status).toBe(expectedStatus);
      expect(onDisk.map((e) => (e.kind === 'api_access' ? e.kind : String(e.event_type))).sort()).toEqual(expect.arrayContaining([...expectedTypes, 'api_access'].sort()));
      acknowledged.push({ requestId, response });
      return response;
    };

    await call('POST', '/auth/register', { body: { email, password } }, 201, ['user_registered']);
    const token = tokenFromMail(await lastMailTo(ns, email, /Verify/));
    await call('POST', '/auth/verify-email', { body: { token } }, 200, ['email_verified']);
    const login = await call<{ token: string }>('POST', '/auth/login', { body: { email, password } }, 200, ['login_success']);
    const created = await call<{ id: string }>('POST', '/todos', { token: login.body.token, body: { title: 'written while Redis was down' } }, 201, ['todo_created']);
    await call('POST', '/auth/login', { body: { email, password: 'wrong password!' } }, 401, ['login_failed']);

    // Other apps are still asked to retry: they can, and nothing of theirs has happened yet.
    const key = await createApiKey(ns, 'spool-app');
    const refused = await postEvents(stack.url, key, { kind: 'audit', event_type: 'logout', user_id: 'x' });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    const spooled = spooledEvents(ns.dataDir);
    const spooledIds = spooled.map((e) => e.event_id);
    expect(new Set(spooledIds).size).toBe(spooledIds.length);
    expect(spooled.find((e) => e.kind === 'audit' && (e as Record<string, unknown>).entity_id === created.body.id)).toBeDefined();
    const before = await metricsText(stack.url);
    expect(sample(before, 'auditflow_spool_events')).toBe(spooled.length);
    expect(sample(before, 'auditflow_spool_bytes')).toBeGreaterThan(0);
    expect(sample(before, 'auditflow_spool_appended_events_total')).toBe(spooled.length);

    const restartedAt = Date.now();
    await redis.restart();
    await eventually(async () => spoolSegments(ns.dataDir).length === 0, 20_000);
    const after = await api(stack.url, 'GET', '/me', { token: login.body.token });
    expect(after.status).toBe(200);
    const afterId = after.headers.get('x-request-id');
    const replayedMetrics = await metricsText(stack.url);
    expect(sample(replayedMetrics, 'auditflow_spool_replayed_events_total')).toBe(spooled.length);
    expect(sample(replayedMetrics, 'auditflow_spool_events')).toBe(0);
    await stack.stop(); // its last events reach Redis

    // In Redis, in the order they were spooled, and every event of a later request after them.
    queue = new Queue<IngestJob>(QUEUE_NAMES.ingest, { connection: { url: redis.url }, prefix: ns.queuePrefix });
    const jobs = (await queue.getJobs(['waiting'])).sort((a, b) => Number(a.id) - Number(b.id));
    const queued = jobs.flatMap((j) => j.data.batches.flatMap((b) => b.events));
    const replayed = queued.filter((e) => spooledIds.includes(e.event_id)).map((e) => e.event_id);
    expect(replayed).toEqual(spooledIds);
    const later = queued.findIndex((e) => requestIdOf(e as RequestIdHolders) === afterId);
    const lastReplayed = queued.map((e) => spooledIds.includes(e.event_id)).lastIndexOf(true);
    expect(later).toBeGreaterThan(lastReplayed);

    // Then into ClickHouse: each spooled event exactly once, received when it happened, not when it was replayed.
    worker = await startStack(ns, { ROLE: 'worker', REDIS_URL: redis.url, FLUSH_MAX_AGE_MS: '100' });
    await expectStoredOnce(worker, spooledIds);
    for (const table of new Set(Object.values(EVENT_TABLES))) {
      const rows = await queryRows<{ at: number }>(worker.clickhouse!, `SELECT toUnixTimestamp64Milli(received_at) AS at FROM ${table} WHERE has({ids:Array(String)}, toString(event_id))`, {
        ids: spooledIds,
      });
      for (const row of rows) expect(Number(row.at)).toBeLessThan(restartedAt);
    }
  } finally {
    await queue?.close();
    await worker?.stop();
    await stack.stop().catch(() => undefined);
  }
}, 60_000);

it('fails closed with 503 when the spool is full, acting on nothing more, and recovers once Redis is back', async () => {
  const maxBytes = 1024 * 1024;
  // Another live process's segment (never ours to replay) takes all but a few KiB of the limit.
  fs.mkdirSync(spoolDir(ns.dataDir), { recursive: true });
  const foreign = path.join(spoolDir(ns.dataDir), `000000000000-${process.ppid}.spool`);
  fs.writeFileSync(foreign, `${'x'.repeat(maxBytes - 8 * 1024)}\n`);
  const stack = await startStack(ns, { ROLE: 'api', REDIS_URL: redis.url, SPOOL_MAX_BYTES: String(maxBytes) });
  let queue: Queue<IngestJob> | undefined;
  try {
    const { token } = await signUp(stack.url, ns, `full-${randomUUID()}@example.com`);
    await redis.stop();

    const statuses: number[] = [];
    for (let i = 0; i < 30 && !statuses.includes(503); i++) {
      statuses.push((await api(stack.url, 'POST', '/todos', { token, body: { title: `todo ${i}` } })).status);
    }
    expect(statuses[0]).toBe(201);
    expect(statuses.at(-1)).toBe(503);
    expect(statuses.slice(0, -1).every((s) => s === 201)).toBe(true);

    // Full: refused before acting, so the todo is never created.
    const refused = await api<ErrorBody>(stack.url, 'POST', '/todos', { token, body: { title: 'refused while full' } });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body.error.code).toBe('UNAVAILABLE');
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);

    await redis.restart();
    await eventually(async () => (await api(stack.url, 'POST', '/todos', { token, body: { title: 'after recovery' } })).status === 201, 20_000, 250);
    const titles = (await api<{ todos: { title: string }[] }>(stack.url, 'GET', '/todos?limit=100', { token })).body.todos.map((t) => t.title);
    expect(titles).toContain('after recovery');
    expect(titles).not.toContain('refused while full');
    expect(spoolSegments(ns.dataDir)).toEqual([path.basename(foreign)]);

    // The request whose events found no room had acted before it was told 503; its event was kept and is recorded now.
    const unanswered = `todo ${statuses.length - 1}`;
    expect(titles).toContain(unanswered);
    queue = new Queue<IngestJob>(QUEUE_NAMES.ingest, { connection: { url: redis.url }, prefix: ns.queuePrefix });
    await eventually(async () => {
      const jobs = await queue!.getJobs(['waiting']);
      return jobs.some((j) => j.data.batches.some((b) => b.events.some((e) => e.event_type === 'todo_created' && (e as { new_value?: { title?: string } }).new_value?.title === unanswered)));
    }, 10_000);
  } finally {
    await queue?.close();
    await stack.stop();
    fs.rmSync(foreign, { force: true });
  }
}, 60_000);

it('keeps the second half of the spool for acknowledged actions: refused ingest posts are not spooled past it', async () => {
  const maxBytes = 1024 * 1024;
  fs.mkdirSync(spoolDir(ns.dataDir), { recursive: true });
  const foreign = path.join(spoolDir(ns.dataDir), `000000000000-${process.ppid}.spool`);
  fs.writeFileSync(foreign, `${'0'.repeat(16)} ${JSON.stringify({ events: [], padding: 'x'.repeat(Math.round(maxBytes * 0.6)) })}\n`);
  const stack = await startStack(ns, { ROLE: 'api', REDIS_URL: redis.url, SPOOL_MAX_BYTES: String(maxBytes) });
  try {
    const { token } = await signUp(stack.url, ns, `half-${randomUUID()}@example.com`);
    const key = await createApiKey(ns, 'half-app');
    await redis.stop();

    const refusedId = `refused-${randomUUID()}`;
    for (let i = 0; i < 20; i++) {
      const refused = await postEvents(stack.url, key, { kind: 'audit', event_type: 'logout', user_id: 'x' }, { headers: { 'x-request-id': refusedId } });
      expect(refused.status).toBe(503);
    }
    const todo = await api(stack.url, 'POST', '/todos', { token, body: { title: 'still recorded' }, headers: { 'x-request-id': 'todo-while-half-full' } });
    expect(todo.status).toBe(201);

    const onDisk = spooledEvents(ns.dataDir);
    expect(onDisk.filter((e) => requestIdOf(e as RequestIdHolders) === refusedId)).toEqual([]);
    expect(onDisk.filter((e) => requestIdOf(e as RequestIdHolders) === 'todo-while-half-full').length).toBeGreaterThan(0);
    // Each refused post: its api_access and its error event.
    expect(sample(await metricsText(stack.url), 'auditflow_spool_dropped_events_total')).toBe(40);
  } finally {
    await redis.restart();
    await stack.stop();
    fs.rmSync(foreign, { force: true });
  }
}, 60_000);
