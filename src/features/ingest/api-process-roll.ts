import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** The Redis sorted set where each API process of a deployment marks itself (member: the process, score: when, on Redis's clock). */
export function apiProcessesKey(prefix: string): string {
  return `${prefix}:ingest-api-processes`;
}

/** A mark older than this is a process that stopped, or froze: it no longer counts. */
export const API_PROCESS_FRESH_MS = 5000;

/**
 * Marks the caller and drops stale marks, on Redis's own clock (TIME), so
 * that hosts whose clocks disagree still agree on who is fresh. Returns how
 * many processes are marked. KEYS: the set. ARGV: the process, the freshness bound.
 */
const MARK_AND_COUNT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])`;

/**
 * The API processes that share one deployment's ingest queue. Fair shedding
 * splits what it admits while the pipeline is saturated between them
 * (src/features/ingest/backpressure.ts): behind a load balancer, each of N
 * processes granting the whole allowance would let in N of them.
 */
export class ApiProcessRoll {
  private readonly member = randomUUID();

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  /** Marks this process as alive and answers how many are, itself included. */
  async count(): Promise<number> {
    return Number(await this.redis.eval(MARK_AND_COUNT, 1, this.key, this.member, API_PROCESS_FRESH_MS));
  }

  /** Withdraws this process's mark, so the others' share grows at once rather than when it goes stale. */
  async leave(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.zrem(this.key, this.member).catch(() => undefined);
  }
}
