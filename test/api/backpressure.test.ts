import net from 'node:net';
import { Redis } from 'ioredis';
import { captureLogs } from '../helpers/log-capture';
import type { ErrorBody } from '../helpers/accounts';
import { createApiKey, postEvents, startStack } from '../helpers/stack';
import { ThrowawayRedis } from '../helpers/redis-server';
import { createNamespace, eventually, REDIS_URL } from '../helpers/test-env';
import { heldSinceKey } from '../../src/features/ingest/held-jobs';

const ns = createNamespace('backpressure');
afterAll(() => ns.cleanup());

const event = { kind: 'audit', event_type: 'logout', user_id: 'bp' };

it('answers 503 with Retry-After while Redis is down, and 202 again once it is back', async () => {
  const redis = await ThrowawayRedis.start();
  const logs = captureLogs();
  const stack = await startStack(ns, { ROLE: 'api', REDIS_URL: redis.url }, logs.logger);
  try {
    const key = await createApiKey(ns, 'bp-app');
    expect((await postEvents(stack.url, key, event)).status).toBe(202);

    await redis.stop();
    const down = await postEvents<ErrorBody>(stack.url, key, event);
    expect(down.status).toBe(503);
    expect((await postEvents(stack.url, key, '[{"kind": ', { raw: true })).status).toBe(503);
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(down.body.error.code).toBe('UNAVAILABLE');
    // Every line of that request, the error's warning included, carries its request id.
    const requestId = down.headers.get('x-request-id');
    const lines = logs.parsed().filter((l) => l.requestId === requestId);
    expect(lines.map((l) => l.msg)).toContain('request failed');
    expect(lines.find((l) => l.level === 40 && l.err)).toMatchObject({ path: '/v1/events' });

    await redis.restart();
    await eventually(async () => (await postEvents(stack.url, key, event)).status === 202, 15_000, 250);
  } finally {
    await stack.stop();
    await redis.stop();
  }
}, 60_000);

it('sheds load with 429 and Retry-After when the ingest backlog is full', async () => {
  // No worker role: nothing drains the queue, so the backlog only grows.
  const stack = await startStack(ns, { ROLE: 'api', MAX_QUEUE_BACKLOG: '350' });
  try {
    const key = await createApiKey(ns, 'bp-app2');
    const batch = Array.from({ length: 100 }, () => event);
    const statuses: number[] = [];
    const shed = await eventually(
      async () => {
        const res = await postEvents(stack.url, key, batch);
        statuses.push(res.status);
        return res.status === 429 && res;
      },
      15_000,
      100,
    );
    expect(Number(shed.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(statuses.slice(0, 2)).toEqual([202, 202]);
    expect(statuses.every((s) => s === 202 || s === 429)).toBe(true);
    // Refused before the body is read: not even malformed JSON gets a 400 while shedding.
    expect((await postEvents(stack.url, key, '[{"kind": ', { raw: true })).status).toBe(429);
  } finally {
    await stack.stop();
  }
}, 60_000);

it('sheds load with 429 before Redis reaches its maxmemory, even under a burst of 64 parallel posts', async () => {
  const maxmemory = 16 * 1024 * 1024;
  const redis = await ThrowawayRedis.start(['--maxmemory', String(maxmemory), '--maxmemory-policy', 'noeviction']);
  // No worker role: nothing drains the queue, so only shedding keeps Redis from filling up.
  const stack = await startStack(ns, { ROLE: 'api', REDIS_URL: redis.url });
  const info = new Redis(redis.url);
  try {
    const key = await createApiKey(ns, 'bp-app3');
    const batch = Array.from({ length: 100 }, (_, i) => ({ ...event, reason: `${i} ${'x'.repeat(500)}` }));
    const statuses: number[] = [];
    const deadline = Date.now() + 10_000;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (Date.now() < deadline && statuses.filter((s) => s === 429).length < 50) statuses.push((await postEvents(stack.url, key, batch)).status);
      }),
    );
    expect(statuses).toContain(429);
    // A 503 here would be Redis refusing a write (OOM): shedding came too late.
    expect(statuses.filter((s) => s !== 202 && s !== 429)).toEqual([]);
    // (The peak may pass maxmemory for a moment: Redis counts incoming command buffers too, and refuses only the next write.)
    const used = Number(/used_memory:(\d+)/.exec(await info.info('memory'))?.[1]);
    expect(used).toBeLessThan(maxmemory);
  } finally {
    info.disconnect();
    await stack.stop();
    await redis.stop();
  }
}, 60_000);

it('answers 429, not 503, when Redis is already past its maxmemory: overloaded, not down', async () => {
  const redis = await ThrowawayRedis.start(['--maxmemory-policy', 'noeviction']);
  const stack = await startStack(ns, { ROLE: 'api', REDIS_URL: redis.url });
  const admin = new Redis(redis.url);
  try {
    const key = await createApiKey(ns, 'bp-app4');
    expect((await postEvents(stack.url, key, event)).status).toBe(202);
    // Something else filled Redis (the workers, another app): every write, the job counts' script included, is refused with OOM.
    for (let i = 0; i < 20; i++) await admin.set(`bp-fill:${i}`, 'x'.repeat(100_000));
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
    await admin.config('SET', 'maxmemory', String(used - 1024 * 1024));
    await expect(admin.set('bp-probe', 'x')).rejects.toThrow(/^OOM /);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await postEvents(stack.url, key, event);
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(statuses).toEqual([429, 429, 429, 429, 429]);
    await admin.config('SET', 'maxmemory', '0');
    await eventually(async () => (await postEvents(stack.url, key, event)).status === 202, 15_000, 250);
  } finally {
    admin.disconnect();
    await stack.stop();
    await redis.stop();
  }
}, 60_000);

/** Posts until one is refused with 429, and returns that answer. */
function firstRefusal(url: string, key: string) {
  return eventually(
    async () => {
      const res = await postEvents<ErrorBody>(url, key, event);
      return res.status === 429 && res;
    },
    10_000,
    50,
  );
}

it('answers 429 with Retry-After while the oldest waiting events are older than INGEST_MAX_LAG_MS, and 202 again once a worker has drained them', async () => {
  // Its own namespace: the tests above leave jobs in theirs that no worker took.
  const lag = createNamespace('lagadmission');
  // No worker at first: what is queued only ages.
  const stack = await startStack(lag, { ROLE: 'api', INGEST_MAX_LAG_MS: '400' });
  let worker: Awaited<ReturnType<typeof startStack>> | undefined;
  try {
    const key = await createApiKey(lag, 'bp-app5');
    // A fresh queue is not behind: posts are admitted until the first job has waited 400 ms.
    const queuedAt = Date.now();
    expect((await postEvents(stack.url, key, event)).status).toBe(202);
    const lagging = await firstRefusal(stack.url, key);
    expect(Date.now() - queuedAt).toBeGreaterThanOrEqual(400);
    expect(Number(lagging.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(lagging.body.error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/workers are behind/) });

    worker = await startStack(lag, { ROLE: 'worker', FLUSH_MAX_AGE_MS: '100' });
    await eventually(async () => (await postEvents(stack.url, key, event)).status === 202, 30_000, 250);
  } finally {
    await worker?.stop();
    await stack.stop();
    await lag.cleanup();
  }
}, 90_000);

it('counts the events a worker holds unwritten in the lag, not only those waiting for one, and ignores a gone worker’s entry and a forged one', async () => {
  const held = createNamespace('lagheld');
  const admin = new Redis(REDIS_URL);
  const stack = await startStack(held, { ROLE: 'api', INGEST_MAX_LAG_MS: '400' });
  // A worker that takes every job at once and writes none for a minute: nothing waits in the queue, everything is behind.
  let worker: Awaited<ReturnType<typeof startStack>> | undefined = await startStack(held, { ROLE: 'worker', FLUSH_MAX_AGE_MS: '60000', FLUSH_MAX_ROWS: '1000000' });
  try {
    const key = await createApiKey(held, 'bp-held');
    const queuedAt = Date.now();
    expect((await postEvents(stack.url, key, event)).status).toBe(202);
    const lagging = await firstRefusal(stack.url, key);
    expect(Date.now() - queuedAt).toBeGreaterThanOrEqual(400);
    expect(lagging.body.error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/not yet written/) });
    expect(await admin.llen(`${held.queuePrefix}:ingest:wait`)).toBe(0);

    // Stopping writes what the worker held and withdraws its entry.
    await worker.stop();
    worker = undefined;
    expect(await admin.hlen(heldSinceKey(held.queuePrefix))).toBe(0);
    // A worker that died holding jobs (its entry no longer refreshed), and entries no worker wrote: none of them holds ingest back.
    await admin.hset(heldSinceKey(held.queuePrefix), 'dead-worker', `1:${Date.now() - 60_000}`, 'forged', 'not-a-time', 'future', `1:not-a-time`);
    await eventually(async () => (await postEvents(stack.url, key, event)).status === 202, 10_000, 100);
  } finally {
    admin.disconnect();
    await worker?.stop();
    await stack.stop();
    await held.cleanup();
  }
}, 90_000);

it('answers 429 before reading the body to a flood while the API process has no idle time (INGEST_MAX_BUSY_PERCENT), and 202 once it has', async () => {
  const busy = createNamespace('busyadmission');
  const stack = await startStack(busy, { ROLE: 'api', INGEST_MAX_BUSY_PERCENT: '60' });
  // Keeps this process's event loop ~90 % busy, as a flood of posts would, in 9 ms slices: the test's own
  // client shares the loop, and with 90 ms slices each of its turns waited that long (12 s a test).
  const spin = setInterval(() => {
    const until = performance.now() + 9;
    while (performance.now() < until);
  }, 1);
  try {
    const key = await createApiKey(busy, 'bp-app6');
    // A few posts at a time are served however busy the process is; a flood of them is shed.
    expect((await postEvents(stack.url, key, event)).status).toBe(202);
    const shed = await eventually(
      async () => {
        const answers = await Promise.all(Array.from({ length: 100 }, () => postEvents<ErrorBody>(stack.url, key, event)));
        return answers.find((res) => res.status === 429) ?? false;
      },
      20_000,
      0,
    );
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(shed.body.error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/API process is saturated/) });
    clearInterval(spin);
    await eventually(async () => (await postEvents(stack.url, key, event)).status === 202, 10_000, 100);
  } finally {
    clearInterval(spin);
    await stack.stop();
    await busy.cleanup();
  }
}, 60_000);

it('slow uploads holding many posts open do not make busy admission refuse others, even while the process is busy', async () => {
  const slow = createNamespace('busyslowloris');
  const stack = await startStack(slow, { ROLE: 'api', INGEST_MAX_BUSY_PERCENT: '60' });
  const sockets: net.Socket[] = [];
  // As busy as in the flood test above: only the uploads held open could make this a flood.
  const spin = setInterval(() => {
    const until = performance.now() + 9;
    while (performance.now() < until);
  }, 1);
  try {
    const key = await createApiKey(slow, 'bp-app7');
    const { port } = new URL(stack.url);
    // 80 posts admitted and left hanging mid-body: in flight for a second, then counted no more.
    for (let i = 0; i < 80; i++) {
      const socket = net.connect(Number(port), '127.0.0.1');
      sockets.push(socket);
      socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{"kind":"audit",`);
    }
    await new Promise((r) => setTimeout(r, 1500));
    // Five in a row: with the uploads counted, busy admission would admit each with a chance of 1 in 20.
    for (let i = 0; i < 5; i++) expect((await postEvents(stack.url, key, event)).status).toBe(202);
  } finally {
    clearInterval(spin);
    for (const socket of sockets) socket.destroy();
    await stack.stop();
    await slow.cleanup();
  }
}, 60_000);
