import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { ThrowawayRedis } from '../helpers/redis-server';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('riskoom');
afterAll(() => ns.cleanup());

it('a worker whose Redis refuses writes for memory scores nothing twice and loses nothing: once there is room, every event is written once', async () => {
  const redis = await ThrowawayRedis.start(['--maxmemory-policy', 'noeviction']);
  const admin = new Redis(redis.url);
  // The API alone first: the failed logins wait in the queue for a worker.
  const api = await startStack(ns, { ROLE: 'api', REDIS_URL: redis.url });
  let worker: Awaited<ReturnType<typeof startStack>> | undefined;
  try {
    const key = await createApiKey(ns, 'risk-oom');
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const events = ids.map((event_id, i) => ({
      kind: 'failed_login',
      event_id,
      user_id: 'oom-user',
      email_address: 'oom-user@shop.example',
      failure_reason: 'INVALID_PASSWORD',
      ip_address: `198.51.100.${i + 1}`,
    }));
    expect((await postEvents(api.url, key, events)).status).toBe(202);
    // Then Redis fills up (something else's writes): every write of the worker, the risk worker's state and BullMQ's job moves alike, is refused.
    for (let i = 0; i < 20; i++) await admin.set(`oom-fill:${i}`, 'x'.repeat(100_000));
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
    await admin.config('SET', 'maxmemory', String(used - 1024 * 1024));
    await expect(admin.set('oom-probe', 'x')).rejects.toThrow(/^OOM /);
    worker = await startStack(ns, { ROLE: 'worker', REDIS_URL: redis.url, FLUSH_MAX_AGE_MS: '100', JOB_BACKOFF_MS: '200' });
    await new Promise((r) => setTimeout(r, 3000));
    const during = await queryRows<{ n: number }>(worker.clickhouse!, `SELECT count() AS n FROM failed_login_attempts WHERE user_id = 'oom-user'`);
    // Room again: the waiting job is taken, scored once and written once.
    await admin.config('SET', 'maxmemory', '0');
    const rows = await eventually(
      async () => {
        const r = await queryRows<{ id: string }>(worker!.clickhouse!, `SELECT DISTINCT toString(event_id) AS id FROM failed_login_attempts WHERE user_id = 'oom-user'`);
        return r.length >= ids.length && r;
      },
      30_000,
      250,
    );
    expect(Number(during[0]!.n)).toBe(0);
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    const [totals] = await queryRows<{ n: number; u: number }>(worker.clickhouse!, `SELECT count() AS n, uniqExact(source_app, event_id) AS u FROM failed_login_attempts WHERE user_id = 'oom-user'`);
    expect({ n: Number(totals!.n), u: Number(totals!.u) }).toEqual({ n: ids.length, u: ids.length });
  } finally {
    admin.disconnect();
    await worker?.stop();
    await api.stop();
    await redis.stop();
  }
}, 90_000);
