import { freePort, startRedis, stopRedis } from '../helpers/private-redis';
import { captureLogs } from '../helpers/log-capture';
import { createApiKey, postEvents, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('backpressure');
afterAll(() => ns.cleanup());

const event = { kind: 'audit', event_type: 'logout', user_id: 'bp' };

it('answers 503 with Retry-After while Redis is down, and 202 again once it is back', async () => {
  const port = await freePort();
  let redis = await startRedis(port);
  const logs = captureLogs();
  const stack = await startStack(ns, { ROLE: 'api', REDIS_URL: `redis://127.0.0.1:${port}` }, logs.logger);
  try {
    const key = await createApiKey(ns, 'bp-app');
    expect((await postEvents(stack.url, key, event)).status).toBe(202);

    await stopRedis(redis);
    const down = await postEvents(stack.url, key, event);
    expect(down.status).toBe(503);
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(down.body.error.code).toBe('UNAVAILABLE');
    // Every line of that request, the error's warning included, carries its request id.
    const requestId = down.headers.get('x-request-id');
    const lines = logs.parsed().filter((l) => l.requestId === requestId);
    expect(lines.map((l) => l.msg)).toContain('request failed');
    expect(lines.find((l) => l.level === 40 && l.err)).toMatchObject({ path: '/v1/events' });

    redis = await startRedis(port);
    await eventually(async () => (await postEvents(stack.url, key, event)).status === 202, 15_000, 250);
  } finally {
    // Stopping needs Redis (its connections quit): bring it back if a failed expectation left it down.
    if (redis.exitCode !== null || redis.signalCode !== null) redis = await startRedis(port);
    await stack.stop();
    await stopRedis(redis);
  }
}, 60_000);

it('sheds load with 429 and Retry-After when the ingest backlog is full', async () => {
  // No worker role: nothing drains the queue, so the backlog only grows.
  const stack = await startStack(ns, { ROLE: 'api', MAX_QUEUE_BACKLOG: '150' });
  try {
    const key = await createApiKey(ns, 'bp-app2');
    const batch = Array.from({ length: 100 }, () => event);
    const statuses: number[] = [];
    const shed = await eventually(async () => {
      const res = await postEvents(stack.url, key, batch);
      statuses.push(res.status);
      return res.status === 429 && res;
    }, 15_000, 100);
    expect(Number(shed.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(statuses.slice(0, 2)).toEqual([202, 202]);
    expect(statuses.every((s) => s === 202 || s === 429)).toBe(true);
  } finally {
    await stack.stop();
  }
}, 60_000);
