import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { QueuedEvent } from '../../src/domain/event-row';
import { AppError } from '../../src/lib/errors/app-error';
import { IngestProducer } from '../../src/queues/ingest.producer';
import { QUEUE_NAMES, type IngestJob } from '../../src/queues/queue-names';
import { createNamespace, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('producer');
let redis: Redis;
let queue: Queue<IngestJob>;

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue<IngestJob>(QUEUE_NAMES.ingest, { connection: redis, prefix: ns.queuePrefix });
});
afterAll(async () => {
  await queue.close();
  await redis.quit();
  await ns.cleanup();
});

const batch = () => ({
  sourceApp: 'producer-test',
  receivedAt: new Date().toISOString(),
  events: [{ kind: 'audit', event_type: 'logout', event_id: randomUUID(), client_event_id: true, content_hash: randomUUID() } as unknown as QueuedEvent],
});

it('refuses sheddable submissions that were waiting when backpressure closed, and still queues the API’s own events', async () => {
  let shedding = false;
  const producer = new IngestProducer(queue, redis, { prefix: ns.queuePrefix, idempotencyWindowMinutes: 1, refusal: () => (shedding ? new AppError('RATE_LIMITED', 'full') : null) });
  expect(await producer.submit(batch(), { sheddable: true })).toEqual(['accepted']);
  // Admitted while the pipeline was open; by the time their group is written, it has closed.
  shedding = true;
  const [client, own] = await Promise.allSettled([producer.submit(batch(), { sheddable: true }), producer.submit(batch())]);
  expect(client).toMatchObject({ status: 'rejected', reason: { code: 'RATE_LIMITED' } });
  expect(own).toEqual({ status: 'fulfilled', value: ['accepted'] });
  expect(await queue.getJobCountByTypes('waiting')).toBe(2);
});

it('answers a repost sent the moment the first post is answered as a duplicate, though the answer does not wait for the record', async () => {
  const producer = new IngestProducer(queue, redis, { prefix: ns.queuePrefix, idempotencyWindowMinutes: 1 });
  const waitingBefore = await queue.getJobCountByTypes('waiting');
  // A client that reposts (or reuses the id with other content) as soon as it has its 202, 20 times over.
  for (let i = 0; i < 20; i++) {
    const first = batch();
    expect(await producer.submit(first, { sheddable: true })).toEqual(['accepted']);
    const [again, altered] = await Promise.all([
      producer.submit({ ...first, events: [{ ...first.events[0]! }] }, { sheddable: true }),
      producer.submit({ ...first, events: [{ ...first.events[0]!, content_hash: randomUUID() }] }, { sheddable: true }),
    ]);
    expect(again).toEqual(['duplicate']);
    expect(altered).toEqual(['conflict']);
  }
  expect((await queue.getJobCountByTypes('waiting')) - waitingBefore).toBe(20);
});

it('writes the API’s own events published as a group is answered with the next group, not as a job of their own', async () => {
  const own = () => ({
    sourceApp: 'auditflow-api',
    receivedAt: new Date().toISOString(),
    events: [{ kind: 'api_access', event_type: 'api_access', event_id: randomUUID(), content_hash: randomUUID() } as unknown as QueuedEvent],
  });
  // No worker runs here: every job the producer adds stays waiting.
  const jobs = () => queue.getJobCountByTypes('waiting');
  for (const [gatherTurns, expected] of [
    [5, 2],
    [0, 3],
  ] as const) {
    const producer = new IngestProducer(queue, redis, { prefix: ns.queuePrefix, idempotencyWindowMinutes: 1, gatherTurns });
    const before = await jobs();
    // A post's group is written; a second post arrives meanwhile. The first post's answer publishes its
    // api_access event a turn later, as EventPublisher.sendNow does.
    let ownEvent: Promise<unknown> | undefined;
    const first = producer.submit(batch(), { sheddable: true }).then((outcome) => {
      ownEvent = new Promise((resolve) => setImmediate(() => resolve(producer.submit(own()))));
      return outcome;
    });
    const second = producer.submit(batch(), { sheddable: true });
    expect(await first).toEqual(['accepted']);
    expect(await second).toEqual(['accepted']);
    expect(await ownEvent).toEqual(['accepted']);
    expect((await jobs()) - before).toBe(expected);
  }
});
