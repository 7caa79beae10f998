import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Config } from '../../config/env';
import type { Logger } from '../../lib/logger';
import { QUEUE_NAMES, type IngestJob } from '../../queues/queue-names';
import type { RiskEngine } from '../risk/risk-engine';
import type { ClickHouseWriter } from './writer/clickhouse-writer';
import type { DeadLetterRepository } from './dead-letters/dead-letter.repository';
import { createIngestProcessor, jobDeadLetter } from './ingest.processor';
import { HeldEventsBudget } from './held-events-budget';
import { waitingSince, type HeldJobs } from './held-jobs';

export interface IngestWorkerDeps {
  config: Config;
  connection: ConnectionOptions;
  writer: ClickHouseWriter;
  deadLetters: DeadLetterRepository;
  logger: Logger;
  /** Scores auth and failed_login events before they are written. */
  risk?: RiskEngine;
  /** Told which jobs this worker holds, for lag admission (publishHeldSince). */
  held?: HeldJobs;
  /** Called with the number of events moved to dead letters when a job runs out of attempts (metrics). */
  onDeadLettered?: (events: number) => void;
}

/**
 * Consumes the ingest queue. Many jobs are processed at once (each waits for
 * the writer's next flush), which is what makes flushes large; how many is
 * bounded by jobs (WORKER_CONCURRENCY) and by their events (HeldEventsBudget).
 */
export function startIngestWorker({ config, connection, writer, deadLetters, logger, risk, held: heldJobs, onDeadLettered }: IngestWorkerDeps): Worker<IngestJob> {
  const processJob = createIngestProcessor(writer, deadLetters, risk);
  const budget = new HeldEventsBudget(config.worker.maxHeldEvents, config.worker.concurrency);
  const held = async (job: Job<IngestJob>) => {
    const events = job.data.batches.reduce((n, b) => n + b.events.length, 0);
    worker.concurrency = budget.take(events);
    const id = job.id!;
    heldJobs?.hold(id, waitingSince(job));
    try {
      return await processJob(job);
    } finally {
      heldJobs?.release(id);
      worker.concurrency = budget.release(events);
    }
  };
  const worker = new Worker<IngestJob>(QUEUE_NAMES.ingest, held, {
    connection,
    prefix: config.queuePrefix,
    concurrency: config.worker.concurrency,
    lockDuration: config.worker.lockMs,
    stalledInterval: Math.max(1000, Math.floor(config.worker.lockMs / 2)),
    // A worker killed mid-flush leaves its jobs stalled; they are re-run (and deduplicated), not failed.
    maxStalledCount: 10,
  });
  worker.on('failed', (job, error) => void onFailed(job, error));
  worker.on('error', (error) => logger.error({ err: error }, 'ingest worker error'));

  async function onFailed(job: Job<IngestJob> | undefined, error: Error): Promise<void> {
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    if (job.attemptsMade < attempts) {
      logger.warn({ jobId: job.id, attempt: job.attemptsMade, err: error }, 'ingest job failed; it will be retried');
      return;
    }
    // Out of attempts: keep every event, with the error, where `dlq replay` finds it.
    try {
      const entries = job.data.batches.flatMap((b) => b.events.map((e) => jobDeadLetter(b.sourceApp, b.receivedAt, e, `gave up after ${attempts} attempts: ${error.message}`, job.attemptsMade)));
      await deadLetters.add(entries);
      onDeadLettered?.(entries.length);
      await job.remove();
      logger.error({ jobId: job.id, err: error }, 'ingest job exhausted its attempts; events moved to dead letters');
    } catch (dlqError) {
      // ClickHouse is unreachable even for dead letters: the failed job stays in Redis, where `dlq replay` retries it.
      logger.error({ jobId: job.id, err: dlqError }, 'could not dead-letter a failed job; it stays in the failed set');
    }
  }

  return worker;
}
