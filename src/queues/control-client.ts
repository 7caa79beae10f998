import { QueueEvents, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ControlJob, ControlResult } from './queue-names';

/**
 * Runs a control job on whichever worker owns ClickHouse and waits for its
 * result: how a process without the store (the CLI while the server runs,
 * an API-only process) gets maintenance work done.
 */
export async function runControlJob<T extends ControlResult['type']>(
  controlQueue: Queue<ControlJob>,
  redis: Redis,
  job: Extract<ControlJob, { type: T }>,
  timeoutMs: number,
): Promise<Extract<ControlResult, { type: T }>> {
  // BullMQ never closes a connection it was handed, so this one is ours to end: each call used to leave one open.
  const connection = redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
  const events = new QueueEvents(controlQueue.name, { connection, prefix: controlQueue.opts.prefix });
  try {
    await events.waitUntilReady();
    const added = await controlQueue.add(job.type, job, { attempts: 1, removeOnComplete: true, removeOnFail: { age: 3600 } });
    const result = (await added.waitUntilFinished(events, timeoutMs)) as ControlResult;
    if (result.type !== job.type) throw new Error(`control job ${job.type} answered ${result.type}`);
    return result as Extract<ControlResult, { type: T }>;
  } finally {
    await events.close();
    connection.disconnect();
  }
}
