import { Queue, type ConnectionOptions, type DefaultJobOptions } from 'bullmq';
import type { Config } from '../config/env';
import { QUEUE_NAMES, type ControlJob, type IngestJob, type WebhookJob } from './queue-names';

/** Options that keep Redis small: finished jobs are removed, the events stream is trimmed. */
export function ingestJobOptions(config: Config): DefaultJobOptions {
  return {
    attempts: config.worker.attempts,
    backoff: { type: 'exponential', delay: config.worker.backoffMs },
    removeOnComplete: true,
    // Failed jobs stay: their events are not in ClickHouse yet, and `dlq replay` retries them.
    removeOnFail: false,
  };
}

export function createIngestQueue(connection: ConnectionOptions, config: Config): Queue<IngestJob> {
  return new Queue<IngestJob>(QUEUE_NAMES.ingest, {
    connection,
    prefix: config.queuePrefix,
    defaultJobOptions: ingestJobOptions(config),
    streams: { events: { maxLen: 1000 } },
  });
}

export function createControlQueue(connection: ConnectionOptions, config: Config): Queue<ControlJob> {
  return new Queue<ControlJob>(QUEUE_NAMES.control, {
    connection,
    prefix: config.queuePrefix,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 24 * 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
    streams: { events: { maxLen: 1000 } },
  });
}

export function createWebhookQueue(connection: ConnectionOptions, config: Config): Queue<WebhookJob> {
  return new Queue<WebhookJob>(QUEUE_NAMES.webhooks, { connection, prefix: config.queuePrefix, streams: { events: { maxLen: 1000 } } });
}
