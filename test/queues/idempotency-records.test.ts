import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BUCKET_SLACK_SECONDS } from '../../src/domain/idempotency-window';
import type { QueuedEvent } from '../../src/domain/event-row';
import { IdempotencyRecords } from '../../src/queues/idempotency-records';
import { IngestProducer } from '../../src/queues/ingest.producer';
import { QUEUE_NAMES, type IngestJob } from '../../src/queues/queue-names';
import { sha256Hex } from '../../src/domain/sha256';
import { watchRedis } from '../helpers/redis-monitor';
import { createNamespace, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('idemwindow');
const MINUTE = 60_000;
let redis: Redis;
let queue: Queue<IngestJob>;
let clock = Date.UTC(2026, 11, 5, 10, 3, 0);

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue<IngestJob>(QUEUE_NAMES.ingest, { connection: redis, prefix: ns.queuePrefix });
});
afterAll(async () => {
  await queue.close();
  await redis.quit();
  await ns.cleanup();
});

const producer = () => new IngestProducer(queue, redis, { prefix: ns.queuePrefix, idempotencyWindowMinutes: 10, now: () => clock });
const event = (eventId: string, content: string): QueuedEvent =>
  ({ kind: 'audit', event_type: 'logout', event_id: eventId, client_event_id: true, content_hash: sha256Hex(content) }) as unknown as QueuedEvent;
const post = (p: IngestProducer, app: string, events: QueuedEvent[]) => p.submit({ sourceApp: app, receivedAt: new Date(clock).toISOString(), events }, { sheddable: true });

describe('idempotency records in a window of IDEMPOTENCY_WINDOW_MINUTES', () => {
  it('answer a repost with the same content `duplicate` and another content `conflict`, within the window', async () => {
    const p = producer();
    const id = randomUUID();
    expect(await post(p, 'app-a', [event(id, 'first')])).toEqual(['accepted']);
    expect(await post(p, 'app-a', [event(id, 'first')])).toEqual(['duplicate']);
    expect(await post(p, 'app-a', [event(id, 'other')])).toEqual(['conflict']);
    // In one post as well: the second copy is judged against the first.
    const twice = randomUUID();
    expect(await post(p, 'app-a', [event(twice, 'x'), event(twice, 'x'), event(twice, 'y')])).toEqual(['accepted', 'duplicate', 'conflict']);
  });

  it('keep apps apart: two apps may use the same event_id, and neither sees the other’s record', async () => {
    const p = producer();
    const id = randomUUID();
    expect(await post(p, 'app-a', [event(id, 'a')])).toEqual(['accepted']);
    expect(await post(p, 'app-b', [event(id, 'b')])).toEqual(['accepted']);
    expect(await post(p, 'app-a', [event(id, 'a')])).toEqual(['duplicate']);
    expect(await post(p, 'app-b', [event(id, 'b')])).toEqual(['duplicate']);
    expect(await post(p, 'app-b', [event(id, 'a')])).toEqual(['conflict']);
  });

  it('answer for at least one window and are gone after two', async () => {
    const p = producer();
    const start = clock;
    const id = randomUUID();
    expect(await post(p, 'app-a', [event(id, 'c')])).toEqual(['accepted']);
    // Written at 10:03 into the bucket 10:00–10:10: still there at 10:19:59, one window and more later.
    clock = start + 16 * MINUTE + 59_000;
    expect(await post(p, 'app-a', [event(id, 'c')])).toEqual(['duplicate']);
    clock = start + 17 * MINUTE;
    expect(await post(p, 'app-a', [event(id, 'c')])).toEqual(['accepted']);
    clock = start;
  });

  it('expire each bucket at most two windows and the slack after it was written', async () => {
    const p = producer();
    const real = new IngestProducer(queue, redis, { prefix: ns.queuePrefix, idempotencyWindowMinutes: 1 });
    await post(p, 'app-ttl', [event(randomUUID(), 'd')]);
    await real.submit({ sourceApp: 'app-ttl-now', receivedAt: new Date().toISOString(), events: [event(randomUUID(), 'e')] }, { sheddable: true });
    const keys = await redis.keys(`${ns.queuePrefix}:idem:app-ttl*`);
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2 * (key.includes('app-ttl-now') ? 1 : 10) * 60 + BUCKET_SLACK_SECONDS);
    }
  });

  it('look up and record a 100-event post in one command per bucket, whatever the number of events', async () => {
    const p = producer();
    const events = Array.from({ length: 100 }, (_, i) => event(randomUUID(), `bulk-${i}`));
    const watch = await watchRedis(redis, (args) => args.some((a) => String(a).startsWith(`${ns.queuePrefix}:idem:app-bulk`)));
    let seen: string[][];
    try {
      expect(await post(p, 'app-bulk', events)).toEqual(events.map(() => 'accepted'));
      expect(await post(p, 'app-bulk', events)).toEqual(events.map(() => 'duplicate'));
    } finally {
      seen = await watch.stop();
    }
    const commands = seen.map((args) => String(args[0]).toLowerCase());
    // Each post reads the current and the previous bucket; the first also records its events (one script, which HSETNXes inside).
    expect(commands.filter((c) => c === 'hmget')).toHaveLength(4);
    expect(commands.filter((c) => c === 'evalsha' || c === 'eval')).toHaveLength(1);
    expect(commands.filter((c) => c === 'hsetnx')).toHaveLength(100);
  });

  it('keep a record in under 64 bytes of Redis memory', async () => {
    const records = new IdempotencyRecords(redis, { prefix: ns.queuePrefix, windowMinutes: 10, now: () => clock });
    const n = 100_000;
    for (let start = 0; start < n; start += 5000) {
      await records.remember(Array.from({ length: 5000 }, (_, i) => ({ sourceApp: 'app-memory', eventId: randomUUID(), contentHash: sha256Hex(`m${start + i}`) })));
    }
    const [key] = await redis.keys(`${ns.queuePrefix}:idem:app-memory:*`);
    expect(await redis.hlen(key!)).toBe(n);
    const bytes = Number(await redis.memory('USAGE', key!, 'SAMPLES', '0'));
    expect(bytes / n).toBeLessThan(64);
  });
});
