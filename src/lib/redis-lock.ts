import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * A mutual-exclusion lock held in Redis (SET NX PX, released only by its
 * holder). Used so that several worker processes never run the
 * check-then-insert step of one table at the same time.
 */
export class RedisLock {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs = 60_000,
    private readonly waitMs = 120_000,
  ) {}

  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const key = `${this.prefix}:lock:${name}`;
    const token = randomUUID();
    // Monotonic: a wall clock stepped forward must not time the wait out at once.
    const deadline = performance.now() + this.waitMs;
    let delay = 5;
    while ((await this.redis.set(key, token, 'PX', this.ttlMs, 'NX')) !== 'OK') {
      if (performance.now() > deadline) throw new Error(`timed out waiting for lock ${name}`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 200);
    }
    // Keep the lock while a slow flush runs, so it cannot expire under us.
    const renew = setInterval(() => void this.redis.pexpire(key, this.ttlMs).catch(() => undefined), this.ttlMs / 3);
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }
}
