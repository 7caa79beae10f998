import type { Queue } from 'bullmq';
import type { QueuedEvent } from '../../../domain/event-row';
import type { IngestBatch, IngestJob } from '../../../queues/queue-names';
import type { DeadLetterPayload, DeadLetterRepository } from './dead-letter.repository';

export interface ReplayResult {
  /** Dead letters put back in the ingest queue. */
  requeued: number;
  /** Ingest jobs that had used up their attempts, retried. */
  retriedJobs: number;
}

/**
 * Re-queues dead letters and retries failed ingest jobs. Safe to run twice:
 * the writer drops any event_id already stored.
 */
export async function replayDeadLetters(deadLetters: DeadLetterRepository, ingestQueue: Queue<IngestJob>, limit: number): Promise<ReplayResult> {
  const retriedJobs = await ingestQueue.getJobCountByTypes('failed');
  if (retriedJobs > 0) await ingestQueue.retryJobs({ state: 'failed' });

  const entries = await deadLetters.pending(limit);
  const batches = new Map<string, IngestBatch>();
  for (const entry of entries) {
    const payload = JSON.parse(entry.raw_payload) as DeadLetterPayload;
    const key = `${payload.sourceApp}\u0000${payload.receivedAt}`;
    let batch = batches.get(key);
    if (!batch) {
      batch = { sourceApp: payload.sourceApp, receivedAt: payload.receivedAt, events: [] };
      batches.set(key, batch);
    }
    batch.events.push(payload.event as unknown as QueuedEvent);
  }
  if (batches.size > 0) await ingestQueue.add('events', { batches: [...batches.values()] });
  await deadLetters.markReplayed(entries);
  return { requeued: entries.length, retriedJobs };
}
