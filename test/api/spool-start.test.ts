import { randomUUID } from 'node:crypto';
import { api, lastMailTo, tokenFromMail } from '../helpers/accounts';
import { ThrowawayRedis } from '../helpers/redis-server';
import { expectStoredOnce, spooledEvents, spoolSegments } from '../helpers/spool';
import { createApiKey, postEvents, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('spoolstart');
afterAll(() => ns.cleanup());

it('starts the API while Redis is down: users are answered, their events spooled, and written once Redis is up', async () => {
  const redis = await ThrowawayRedis.start();
  await redis.stop();
  const stack = await startStack(ns, { ROLE: 'api', REDIS_URL: redis.url });
  let worker: Awaited<ReturnType<typeof startStack>> | undefined;
  try {
    const redisCheck = async () => ((await (await fetch(`${stack.url}/readyz`)).json()) as { checks: Record<string, string> }).checks.redis;
    expect(await redisCheck()).not.toBe('ok');
    const email = `spool-start-${randomUUID()}@example.com`;
    const registered = await api(stack.url, 'POST', '/auth/register', { body: { email, password: 'correct horse battery staple' } });
    expect(registered.status).toBe(201);
    expect(tokenFromMail(await lastMailTo(ns, email, /Verify/))).toBeTruthy();
    const spooled = spooledEvents(ns.dataDir);
    expect(spooled.map((e) => e.event_type)).toContain('user_registered');
    // Other apps are asked to retry, as while any outage.
    const key = await createApiKey(ns, 'spool-start-app');
    expect((await postEvents(stack.url, key, { kind: 'audit', event_type: 'logout', user_id: 'x' })).status).toBe(503);

    await redis.restart();
    await eventually(async () => spoolSegments(ns.dataDir).length === 0, 20_000);
    expect(await redisCheck()).toBe('ok');
    worker = await startStack(ns, { ROLE: 'worker', REDIS_URL: redis.url, FLUSH_MAX_AGE_MS: '100' });
    await expectStoredOnce(
      worker,
      spooled.map((e) => e.event_id),
    );
  } finally {
    await worker?.stop();
    await stack.stop();
    await redis.stop();
  }
}, 90_000);
