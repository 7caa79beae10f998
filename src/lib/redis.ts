import { Redis, type RedisOptions } from 'ioredis';

/**
 * Connection for producers and request paths: commands fail at once while
 * Redis is down instead of queueing in memory, so the API can answer 503
 * rather than acknowledge an event that is nowhere durable.
 */
export function createFailFastRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options,
  });
}

/** Connection for BullMQ workers: blocking commands must wait for Redis to come back. */
export function createWorkerRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options,
  });
}

/** Closes a connection: QUIT when Redis answers, else just drops it (QUIT would fail, or wait for a Redis that is down). */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit();
  else redis.disconnect();
}
