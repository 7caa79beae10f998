import { Redis } from 'ioredis';
import { API_PROCESS_FRESH_MS, ApiProcessRoll, apiProcessesKey } from '../../src/features/ingest/api-process-roll';
import { createNamespace, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('apiroll');
const key = apiProcessesKey(ns.queuePrefix);
let redis: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await redis.quit();
  await ns.cleanup();
});

describe('the API processes sharing a queue', () => {
  it('counts each process once however often it marks itself, and forgets one that leaves', async () => {
    const a = new ApiProcessRoll(redis, key);
    const b = new ApiProcessRoll(redis, key);
    expect(await a.count()).toBe(1);
    expect(await a.count()).toBe(1);
    expect(await b.count()).toBe(2);
    expect(await a.count()).toBe(2);
    await b.leave();
    expect(await a.count()).toBe(1);
    await a.leave();
    expect(await redis.exists(key)).toBe(0);
  });

  it('stops counting a process that stopped marking itself, judged on Redis’s clock, and lets the set expire', async () => {
    // Marks are on Redis's clock, so hosts whose clocks disagree agree on this: a minute old there is stale.
    const [seconds] = await redis.time();
    await redis.zadd(key, (Number(seconds) - 60) * 1000, 'gone-a-minute-ago');
    const live = new ApiProcessRoll(redis, key);
    expect(await live.count()).toBe(1);
    expect(await redis.zscore(key, 'gone-a-minute-ago')).toBeNull();
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(API_PROCESS_FRESH_MS);
    expect(ttl).toBeLessThanOrEqual(2 * API_PROCESS_FRESH_MS);
    await live.leave();
  });
});
