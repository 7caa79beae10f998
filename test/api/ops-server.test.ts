import { randomUUID } from 'node:crypto';
import type { Running } from '../../src/roles/start';
import { sample } from '../helpers/prometheus';
import { ThrowawayRedis } from '../helpers/redis-server';
import { createApiKey, postEvents, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('opsserver');
afterAll(() => ns.cleanup());

const get = async (url: string) => {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text, json: () => JSON.parse(text) as { status: string; checks: Record<string, string> } };
};

describe('the ops port (METRICS_PORT) of worker-only and scheduler-only processes', () => {
  let worker: Running | undefined;
  let scheduler: Running | undefined;
  let api: Awaited<ReturnType<typeof startStack>> | undefined;
  afterAll(async () => {
    await api?.stop();
    await scheduler?.stop();
    await worker?.stop();
  });

  it('serves the flush size, latency and lag a worker counts, and its health, while the api serves what it accepted', async () => {
    worker = await startStack(ns, { ROLE: 'worker', METRICS_PORT: '0', FLUSH_MAX_AGE_MS: '100' });
    api = await startStack(ns, { ROLE: 'api' });
    expect(worker.port).toBeUndefined();
    const ops = `http://127.0.0.1:${worker.opsPort}`;

    expect((await get(`${ops}/healthz`)).status).toBe(200);
    const ready = await get(`${ops}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json().checks).toEqual({ postgres: 'ok', redis: 'ok', clickhouse: 'ok', disk: 'ok', writer: 'ok' });

    const key = await createApiKey(ns, 'ops-port-app');
    const events = Array.from({ length: 7 }, () => ({ kind: 'audit', event_id: randomUUID(), event_type: 'profile_updated', user_id: 'ops-port' }));
    expect((await postEvents(api.url, key, events)).status).toBe(202);

    const scraped = await eventually(async () => {
      const m = await get(`${ops}/metrics`);
      return (sample(m.text, 'auditflow_clickhouse_flush_rows_sum', { table: 'audit_logs' }) ?? 0) >= 7 && m;
    });
    expect(scraped.type).toMatch(/^text\/plain/);
    expect(sample(scraped.text, 'auditflow_clickhouse_flush_duration_seconds_count', { table: 'audit_logs' })).toBeGreaterThan(0);
    expect(sample(scraped.text, 'auditflow_ingest_lag_seconds_count', { table: 'audit_logs' })).toBeGreaterThan(0);
    expect(sample(scraped.text, 'auditflow_dead_letters_total', { reason: 'flush_rejected' })).toBe(0);
    expect(sample(scraped.text, 'auditflow_dead_letters_stored', { state: 'pending' })).toBe(0);
    expect(sample(scraped.text, 'auditflow_queue_jobs', { queue: 'ingest', state: 'waiting' })).toBeDefined();
    // The worker accepted nothing: that count is the API's.
    expect(sample(scraped.text, 'auditflow_events_accepted_total', { kind: 'audit' })).toBeUndefined();
    const apiMetrics = await get(`${api.url}/metrics`);
    expect(sample(apiMetrics.text, 'auditflow_events_accepted_total', { kind: 'audit' })).toBe(7);
    expect(sample(apiMetrics.text, 'auditflow_clickhouse_flush_rows_count', { table: 'audit_logs' })).toBeUndefined();

    expect((await get(`${ops}/v1/events`)).status).toBe(404);
  });

  it('serves a scheduler-only process too: queue depth and health, without ClickHouse', async () => {
    scheduler = await startStack(ns, { ROLE: 'scheduler', METRICS_PORT: '0' });
    const ops = `http://127.0.0.1:${scheduler.opsPort}`;
    const ready = await get(`${ops}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json().checks).toEqual({ postgres: 'ok', redis: 'ok' });
    expect(sample((await get(`${ops}/metrics`)).text, 'auditflow_queue_jobs', { queue: 'control', state: 'waiting' })).toBeDefined();
  });

  it("makes an api-only process on the embedded store ready only while a worker serves ClickHouse's reads", async () => {
    expect((await get(`${api!.url}/readyz`)).json().checks).toEqual({ postgres: 'ok', redis: 'ok', clickhouse: 'ok', disk: 'ok' });
    await worker!.stop();
    worker = undefined;
    const notReady = await eventually(async () => {
      const r = await get(`${api!.url}/readyz`);
      return r.status === 503 && r;
    });
    expect(notReady.json().checks.clickhouse).toMatch(/no worker is connected/);
  });
});

describe('/readyz while Redis is stopped', () => {
  it('answers 503 naming Redis, on the API and on the ops port, and 200 again once Redis is back', async () => {
    const redis = await ThrowawayRedis.start();
    const env = { REDIS_URL: redis.url };
    const stack = await startStack(ns, { ...env, METRICS_PORT: '0', DATA_DIR: `${ns.dataDir}/redis-down` });
    const urls = [stack.url, `http://127.0.0.1:${stack.opsPort}`];
    try {
      for (const url of urls) expect((await get(`${url}/readyz`)).status).toBe(200);
      await redis.stop();
      for (const url of urls) {
        const down = await get(`${url}/readyz`);
        expect(down.status).toBe(503);
        expect(down.json().status).toBe('not ready');
        expect(down.json().checks.redis).not.toBe('ok');
        expect(down.json().checks.postgres).toBe('ok');
        expect(down.json().checks.clickhouse).toBe('ok');
        // The process is still up.
        expect((await get(`${url}/healthz`)).status).toBe(200);
      }
      await redis.restart();
      for (const url of urls) await eventually(async () => (await get(`${url}/readyz`)).status === 200, 15_000, 250);
    } finally {
      await stack.stop();
      await redis.stop();
    }
  }, 60_000);
});
