import { Redis } from 'ioredis';
import { identityFingerprint } from '../../src/domain/idempotency-window';
import { REDIS_URL } from './test-env';

/**
 * Ends the API's idempotency window for these events now, as the passing of
 * two windows (IDEMPOTENCY_WINDOW_MINUTES) would: their records leave every
 * bucket of their app. Returns the records it removed, as `app:event_id`.
 */
export async function expireIdempotencyWindow(queuePrefix: string, events: { app: string; eventId: string }[]): Promise<string[]> {
  const redis = new Redis(REDIS_URL);
  const removed: string[] = [];
  try {
    for (const { app, eventId } of events) {
      const buckets = await redis.keys(`${queuePrefix}:idem:${app}:*`);
      let found = 0;
      for (const bucket of buckets) found += await redis.hdel(bucket, identityFingerprint(app, eventId));
      if (found > 0) removed.push(`${app}:${eventId}`);
    }
  } finally {
    await redis.quit();
  }
  return removed;
}
