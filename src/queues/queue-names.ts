import type { AnalystLimits } from '../config/env';
import type { AnalystQueryRequest } from '../domain/analyst-query';
import type { ClickHouseException } from '../lib/clickhouse-exception';
import type { QueuedEvent } from '../domain/event-row';
import type { ReportType } from '../domain/report';
import type { RetentionRun } from '../domain/retention-run';
import type { VerificationResult, VerificationTrigger } from '../domain/verification';
import type { WebhookEventType } from '../domain/webhook-events';

/** Every BullMQ queue auditflow uses. */
export const QUEUE_NAMES = {
  /** Validated events on their way to ClickHouse: one job per request batch. */
  ingest: 'ingest',
  /** Maintenance commands run by whichever process owns ClickHouse (dead-letter replay, digests). */
  control: 'control',
  /** Signed calls to the apps' webhooks on lock, unlock and high risk (src/features/risk/webhooks). */
  webhooks: 'webhooks',
} as const;

/** A group of events from one source app, accepted together. */
export interface IngestBatch {
  sourceApp: string;
  /** ISO 8601 time the ingest API accepted the batch. */
  receivedAt: string;
  events: QueuedEvent[];
}

export interface IngestJob {
  batches: IngestBatch[];
}

/** One webhook call; the URL and secret are read at delivery, so they never sit in Redis. */
export interface WebhookJob {
  sourceApp: string;
  type: WebhookEventType;
  deliveryId: string;
  body: Record<string, unknown>;
}

/** Control jobs, one `switch` over `type` in the control processor. */
export type ControlJob =
  | { type: 'dlq-replay'; limit: number }
  | { type: 'dead-letter-digest'; periodStart: string; periodEnd: string }
  /** A read query relayed from a process that cannot open the embedded store (see ClickHouseReader). */
  | { type: 'query'; sql: string; params: Record<string, unknown> }
  /** A compliance report for one period (scheduled or on demand). */
  | { type: 'report'; reportType: ReportType; start: string; end: string; generatedBy: string /** Only these apps' rows (absent: every app). */; apps?: string[] }
  /** Apply data_retention_policies (now: the time the cutoffs count back from). */
  | { type: 'retention'; now: string | null }
  /** Integrity verification, run where ClickHouse is. */
  | { type: 'verify'; from: string | null; to: string | null; trigger: VerificationTrigger }
  /** An analyst's query from /clickhouse; the result's bytes go to the Redis key `resultKey` (see RelayedAnalystRunner). */
  | { type: 'analyst-query'; request: AnalystQueryRequest; limits: AnalystLimits; resultKey: string };

export type ControlResult =
  | { type: 'dlq-replay'; requeued: number; retriedJobs: number }
  | { type: 'dead-letter-digest'; count: number }
  | { type: 'query'; rows: unknown[] }
  | { type: 'verify'; result: VerificationResult }
  | { type: 'report'; id: string; created: boolean }
  | ({ type: 'retention' } & RetentionRun)
  | {
      type: 'analyst-query';
      outcome: { type: 'result'; format: string; summary: Record<string, string> } | { type: 'exception'; exception: ClickHouseException };
    };
