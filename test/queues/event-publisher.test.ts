import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Acknowledgements, EventPublisher } from '../../src/queues/event-publisher';
import { IngestProducer } from '../../src/queues/ingest.producer';
import { QUEUE_NAMES, type IngestJob } from '../../src/queues/queue-names';
import { EventSpool } from '../../src/queues/spool/event-spool';
import { capturingLogger } from '../helpers/captured-logs';
import { createNamespace, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('publisher');
let redis: Redis;
let queue: Queue<IngestJob>;
let dir: string;

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  // Connected, or the publisher would spool (it sends to Redis only while the connection is ready).
  await redis.ping();
  queue = new Queue<IngestJob>(QUEUE_NAMES.ingest, { connection: redis, prefix: ns.queuePrefix });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-publisher-'));
});
afterAll(async () => {
  await queue.close();
  await redis.quit();
  await ns.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('sends the events of responses that end in the same turn as one job, and acknowledges each once it is in Redis', async () => {
  const { logger, lines } = capturingLogger();
  const producer = new IngestProducer(queue, redis, { prefix: ns.queuePrefix, idempotencyWindowMinutes: 1 });
  const spool = await EventSpool.open({ dir, maxBytes: 1024 * 1024, logger });
  const publisher = new EventPublisher(producer, { sourceApp: 'auditflow', spool, redisReady: () => redis.status === 'ready', logger, orphanCheckMs: 0 });
  try {
    // 20 responses ending at once (a group of ingest posts stored in one write), each with its api_access event.
    const acknowledged = Array.from({ length: 20 }, (_, i) => {
      const acks = new Acknowledgements();
      publisher.recording(acks, () => publisher.publish({ kind: 'api_access', method: 'POST', endpoint: '/v1/events', response_status: 202, response_time_ms: i }));
      publisher.sendNow();
      return acks.settled();
    });
    expect(await Promise.all(acknowledged)).toEqual(Array(20).fill(undefined));
    expect(lines).toEqual([]);
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((j) => j.data.batches.reduce((n, b) => n + b.events.length, 0))).toEqual([20]);
  } finally {
    await publisher.close();
  }
});
