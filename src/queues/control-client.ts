import { QueueEvents, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ControlJob, ControlResult } from './queue-names';

/** How long a finished job that someone waits for stays in Redis if its waiter never reads it (it died, or gave up). */
export const WAITED_JOB_KEEP_SECONDS = 600;

/**
 * Adds a control job and waits for its result, which `events` (listening
 * already) reports.
 *
 * The finished job stays in Redis until it is read: BullMQ's
 * waitUntilFinished looks the job up once, after subscribing, in case it
 * finished before; a job removed on completion (`removeOnComplete: true`)
 * is then missing, and the wait fails with "Missing key for job …
 * isFinished" although the job succeeded. That happens whenever the worker
 * is quicker than the waiter: a short job (`dlq replay` with nothing to
 * replay), a waiter descheduled for a moment on a loaded machine. Once the
 * result is read the job is removed; a failed one is kept `keepFailedSeconds`.
 */
export async function addAndWait(controlQueue: Queue<ControlJob>, events: QueueEvents, job: ControlJob, timeoutMs: number, keepFailedSeconds = WAITED_JOB_KEEP_SECONDS): Promise<ControlResult> {
  const added = await controlQueue.add(job.type, job, { attempts: 1, removeOnComplete: { age: WAITED_JOB_KEEP_SECONDS }, removeOnFail: { age: keepFailedSeconds } });
  const result = (await added.waitUntilFinished(events, timeoutMs)) as ControlResult;
  // Read: nothing else needs it (WAITED_JOB_KEEP_SECONDS removes it if this fails).
  await added.remove().catch(() => undefined);
  return result;
}

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
    // A failed maintenance job is kept an hour, for an operator to look at.
    const result = await addAndWait(controlQueue, events, job, timeoutMs, 3600);
    if (result.type !== job.type) throw new Error(`control job ${job.type} answered ${result.type}`);
    return result as Extract<ControlResult, { type: T }>;
  } finally {
    await events.close();
    connection.disconnect();
  }
}
