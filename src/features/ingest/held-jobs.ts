import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Since when the jobs a worker holds have waited to be written (see waitingSince). */
export class HeldJobs {
  private readonly since = new Map<string, number>();

  hold(jobId: string, waitingSince: number): void {
    this.since.set(jobId, waitingSince);
  }

  release(jobId: string): void {
    this.since.delete(jobId);
  }

  /** The earliest time a held job has waited since; null while none is held. A few hundred jobs at most: a scan is enough. */
  oldest(): number | null {
    let oldest: number | null = null;
    for (const since of this.since.values()) if (oldest === null || since < oldest) oldest = since;
    return oldest;
  }
}

/**
 * Since when a job just taken has waited to be written. A stalled job re-run
 * (its worker died) counts from when it was queued: its events really are
 * that late. A retried one counts from this attempt, or a store that failed
 * for a minute would refuse every post for as long as its retries are held.
 */
export function waitingSince(job: { attemptsMade: number; timestamp: number; processedOn?: number }, now = Date.now()): number {
  return job.attemptsMade > 0 ? (job.processedOn ?? now) : job.timestamp;
}

/** The Redis hash where each worker publishes since when its held jobs have waited (field: the worker, value: `since:publishedAt`). */
export function heldSinceKey(prefix: string): string {
  return `${prefix}:ingest-held-since`;
}

/**
 * A worker's entry older than this is ignored: the worker is gone (or stuck, when its jobs' locks will
 * move them back to waiting). Ages are read on the API's clock, as the queue's job timestamps are.
 */
export const HELD_SINCE_FRESH_MS = 5000;

/**
 * Publishes `held.oldest()` every `intervalMs` for lag admission, which
 * cannot see held jobs in the queue: to Redis they are active, while their
 * events wait in the writer's buffers. Returns the function that stops it
 * and withdraws this worker's entry.
 */
export function publishHeldSince(held: HeldJobs, redis: Redis, prefix: string, intervalMs = 100): () => Promise<void> {
  const key = heldSinceKey(prefix);
  const field = randomUUID();
  let stopped = false;
  /** Whether this worker's entry may be in the hash: an idle worker withdraws it once, not every tick. */
  let listed = true;
  const tick = async () => {
    if (redis.status !== 'ready') return;
    const oldest = held.oldest();
    if (oldest === null && !listed) return;
    listed = oldest !== null;
    // The key expires once no worker publishes; a worker's own stale entry is ignored, then overwritten or withdrawn.
    const writes = oldest === null ? [redis.hdel(key, field)] : [redis.hset(key, field, `${oldest}:${Date.now()}`), redis.pexpire(key, HELD_SINCE_FRESH_MS * 2)];
    await Promise.all(writes).catch(() => {
      listed = true;
    });
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return async () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    if (redis.status === 'ready') await redis.hdel(key, field).catch(() => undefined);
  };
}

/**
 * The lag admission's script: the earliest of the oldest waiting job's queue
 * time and the held jobs' (fresh entries only), in ms since the epoch; false
 * when nothing waits. BullMQ pushes new jobs at the head of `wait` and workers
 * take them from its tail, so the tail is the oldest waiting. KEYS: the wait
 * list, the held-since hash. ARGV: the job key prefix, now, the freshness bound.
 */
export const OLDEST_UNWRITTEN = `
local oldest = false
local id = redis.call('LINDEX', KEYS[1], -1)
if id then
  local queued = redis.call('HGET', ARGV[1] .. id, 'timestamp')
  if queued then oldest = tonumber(queued) end
end
local entries = redis.call('HGETALL', KEYS[2])
local fresh = tonumber(ARGV[2]) - tonumber(ARGV[3])
for i = 2, #entries, 2 do
  local since, at = string.match(entries[i], '^(%d+):(%d+)$')
  if since and tonumber(at) >= fresh and (not oldest or tonumber(since) < oldest) then oldest = tonumber(since) end
end
if not oldest then return false end
return tostring(oldest)`;
