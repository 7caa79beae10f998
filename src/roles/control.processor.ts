import { DelayedError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger';
import { RELAYED_RESULT_TTL_MS, type AnalystQueryRunner } from '../features/analyst/analyst-query-runner';
import { RELAYED_QUERY_MAX_ROWS, type ClickHouseReader } from '../queues/clickhouse-reader';
import type { ControlJob, ControlResult, IngestJob } from '../queues/queue-names';
import type { DeadLetterRepository } from '../features/ingest/dead-letters/dead-letter.repository';
import type { RecordedVerification } from '../features/integrity/recorded-verification';
import type { ReportBuilder } from '../features/reports/report-builder';
import { unfinishedPeriod } from '../domain/report';
import type { RetentionJob } from '../features/retention/retention-job';
import { replayDeadLetters } from '../features/ingest/dead-letters/dead-letter-replay';

export interface ControlDeps {
  retention: RetentionJob;
  reports: ReportBuilder;
  /** Verification that records each run and raises the alarm on a broken chain. */
  verifier: RecordedVerification;
  reader: ClickHouseReader;
  deadLetters: DeadLetterRepository;
  ingestQueue: Queue<IngestJob>;
  logger: Logger;
  /** Runs /clickhouse queries relayed from API-only processes. */
  analyst: AnalystQueryRunner;
  /** Where a relayed analyst result's bytes wait for the API. */
  redis: Redis;
}

/** Maintenance commands, run where ClickHouse is: by the worker role, or by the CLI when no worker holds the store. */
export function createControlProcessor({ analyst, deadLetters, ingestQueue, logger, reader, redis, verifier, reports, retention }: ControlDeps) {
  return async (job: Job<ControlJob>, token?: string): Promise<ControlResult> => {
    const data = job.data;
    switch (data.type) {
      case 'dlq-replay': {
        const result = await replayDeadLetters(deadLetters, ingestQueue, data.limit);
        logger.info(result, 'dead letters replayed');
        return { type: 'dlq-replay', ...result };
      }
      case 'dead-letter-digest': {
        const count = await deadLetters.countSince(new Date(data.periodStart), new Date(data.periodEnd));
        if (count > 0) logger.warn({ count, from: data.periodStart, to: data.periodEnd }, 'events went to dead letters in this period; run `auditflow dlq replay` once the cause is fixed');
        return { type: 'dead-letter-digest', count };
      }
      case 'verify': {
        const { result } = await verifier.verify({ from: data.from ? new Date(data.from) : undefined, to: data.to ? new Date(data.to) : undefined }, data.trigger ?? 'api');
        if (!result.ok) logger.error({ broken: result.tables.filter((t) => !t.ok).map((t) => t.first_break) }, 'integrity verification failed');
        return { type: 'verify', result };
      }
      case 'report': {
        // A wall clock stepped forward fires a slot early: the database's clock says whether the period has really ended.
        const now = await reports.databaseNow();
        const waitMs = new Date(data.end).getTime() - now.getTime();
        if (waitMs > 0) {
          if (data.generatedBy !== 'scheduler' || !token) throw new UnrecoverableError(unfinishedPeriod(new Date(data.start), new Date(data.end), now)!);
          logger.warn({ type: data.reportType, end: data.end, databaseNow: now.toISOString(), waitMs }, 'scheduled report fired before its period ended on the database clock; delayed until it has');
          await job.moveToDelayed(Date.now() + waitMs + 1000, token);
          throw new DelayedError();
        }
        const { report, created } = await reports.generate(data.reportType, new Date(data.start), new Date(data.end), data.generatedBy, data.apps);
        if (created) logger.info({ id: report.id, type: data.reportType, start: data.start, end: data.end, apps: data.apps }, 'compliance report generated');
        return { type: 'report', id: String(report.id), created };
      }
      case 'retention': {
        return { type: 'retention', ...(await retention.run(data.now ? new Date(data.now) : undefined)) };
      }
      case 'query': {
        const rows = await reader.query(data.sql, data.params);
        if (rows.length > RELAYED_QUERY_MAX_ROWS) throw new Error(`a relayed query may return at most ${RELAYED_QUERY_MAX_ROWS} rows`);
        return { type: 'query', rows };
      }
      case 'analyst-query': {
        const outcome = await analyst.run(data.request, data.limits);
        if (outcome.type === 'exception') return { type: 'analyst-query', outcome };
        await redis.set(data.resultKey, outcome.result.body, 'PX', RELAYED_RESULT_TTL_MS);
        return { type: 'analyst-query', outcome: { type: 'result', format: outcome.result.format, summary: outcome.result.summary } };
      }
    }
  };
}
