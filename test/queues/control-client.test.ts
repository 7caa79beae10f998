import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { runControlJob } from '../../src/queues/control-client';
import { RelayedReader } from '../../src/queues/clickhouse-reader';
import { QUEUE_NAMES, type ControlJob, type ControlResult } from '../../src/queues/queue-names';
import { createControlQueue } from '../../src/queues/queues';
import { createNamespace, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('controlclient');
let redis: Redis;
let workerRedis: Redis;
let worker: Worker<ControlJob, ControlResult>;
/** Each job's end, as the worker saw it: once it was moved to completed or failed (and removed, if so asked). */
const finished = new Map<string, { promise: Promise<void>; resolve: () => void }>();
function finishedOf(id: string) {
  let end = finished.get(id);
  if (!end) {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    end = { promise, resolve };
    finished.set(id, end);
  }
  return end;
}

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  workerRedis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  // A worker as quick as a control job gets: `dlq replay` with nothing to replay.
  worker = new Worker<ControlJob, ControlResult>(
    QUEUE_NAMES.control,
    async (job) => {
      if (job.data.type === 'dlq-replay') return { type: 'dlq-replay', requeued: 0, retriedJobs: 0 };
      if (job.data.type === 'query' && job.data.sql === 'SELECT 1 AS n') return { type: 'query', rows: [{ n: 1 }] };
      throw new Error('the store is unreachable');
    },
    { connection: workerRedis, prefix: ns.queuePrefix },
  );
  const done = (job: Job | undefined) => job?.id && finishedOf(job.id).resolve();
  worker.on('completed', done);
  worker.on('failed', done);
  await worker.waitUntilReady();
});

afterAll(async () => {
  await worker.close();
  await workerRedis.quit();
  await redis.quit();
  await ns.cleanup();
});

/**
 * A control queue whose `add` returns only once the worker has finished the
 * job: the waiter was descheduled between adding the job and looking at it,
 * as happens on a loaded machine, and the worker was quicker.
 */
function queueSlowToLook() {
  const queue = createControlQueue(redis, ns.config());
  const add = queue.add.bind(queue);
  queue.add = (async (...args: Parameters<typeof add>) => {
    const job = await add(...args);
    await finishedOf(job.id!).promise;
    return job;
  }) as typeof queue.add;
  return queue;
}

it('gets the result of a control job that finished before its waiter looked, and leaves no job behind', async () => {
  const queue = queueSlowToLook();
  const reader = new RelayedReader(queue, redis, 10_000);
  try {
    // It used to fail with "Missing key for job … isFinished": the job was removed on completion.
    expect(await runControlJob(queue, redis, { type: 'dlq-replay', limit: 10 }, 10_000)).toEqual({ type: 'dlq-replay', requeued: 0, retriedJobs: 0 });
    expect(await reader.query('SELECT 1 AS n')).toEqual([{ n: 1 }]);
    expect(await queue.getJobCounts('completed', 'failed', 'waiting', 'active')).toEqual({ completed: 0, failed: 0, waiting: 0, active: 0 });
  } finally {
    await reader.close();
    await queue.close();
  }
});

it("reports a control job's own failure, also when it failed before its waiter looked, and keeps the failed job", async () => {
  const queue = queueSlowToLook();
  const reader = new RelayedReader(queue, redis, 10_000);
  try {
    await expect(runControlJob(queue, redis, { type: 'dead-letter-digest', periodStart: '2026-01-01T00:00:00Z', periodEnd: '2026-01-02T00:00:00Z' }, 10_000)).rejects.toThrow(
      'the store is unreachable',
    );
    expect(await queue.getJobCountByTypes('failed')).toBe(1);
    await expect(reader.query('SELECT 2')).rejects.toThrow('the store is unreachable');
  } finally {
    await reader.close();
    await queue.close();
  }
});
