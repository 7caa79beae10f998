import type { Job } from 'bullmq';
import { tableOf, toClickHouseRow, type ClickHouseRow } from '../../domain/event-row';
import type { IngestJob } from '../../queues/queue-names';
import { isEventKind } from '../../schemas/event';
import type { ClickHouseWriter } from './writer/clickhouse-writer';
import type { DeadLetter, DeadLetterRepository } from './dead-letters/dead-letter.repository';
import { toClickHouseTime } from '../../domain/event-row';
import { riskColumns } from '../risk/domain/risk-decision';
import type { RiskEngine } from '../risk/risk-engine';
import { SCORED_KINDS } from '../risk/domain/risk-observation';
import { rowIdentity } from './writer/row-identity';

/**
 * Turns one ingest job into rows per table and hands them to the writer;
 * done when they are written. With a risk engine, auth and failed_login
 * events are scored first (the whole job in one Redis call), their decision
 * is stored in their own row, and the decisions are enforced while the rows
 * are written.
 */
export function createIngestProcessor(writer: ClickHouseWriter, deadLetters: DeadLetterRepository, risk?: RiskEngine) {
  return async (job: Job<IngestJob>): Promise<{ events: number }> => {
    const rowsByTable = new Map<string, ClickHouseRow[]>();
    const unknown: DeadLetter[] = [];
    let events = 0;
    const scored = risk
      ? await risk.assess(job.data.batches.flatMap((b) => b.events.filter((e) => SCORED_KINDS.has(e.kind)).map((event) => ({ event, sourceApp: b.sourceApp, receivedAt: b.receivedAt }))))
      : [];
    // By (source_app, event_id): two apps may send the same id, and group commit puts their posts in one job.
    const decisions = new Map(scored.map((d) => [rowIdentity({ source_app: d.observation.sourceApp, event_id: d.observation.eventId }), d]));
    for (const batch of job.data.batches) {
      for (const event of batch.events) {
        events++;
        if (!isEventKind(event.kind)) {
          unknown.push(jobDeadLetter(batch.sourceApp, batch.receivedAt, event, `unknown event kind ${JSON.stringify(event.kind)}`, job.attemptsMade + 1));
          continue;
        }
        const table = tableOf(event.kind);
        let rows = rowsByTable.get(table);
        if (!rows) {
          rows = [];
          rowsByTable.set(table, rows);
        }
        const row = toClickHouseRow(event, batch.sourceApp, batch.receivedAt);
        const decision = SCORED_KINDS.has(event.kind) ? decisions.get(rowIdentity({ source_app: batch.sourceApp, event_id: event.event_id })) : undefined;
        rows.push(decision ? Object.assign(row, riskColumns(decision)) : row);
      }
    }
    await Promise.all([...[...rowsByTable].map(([table, rows]) => writer.write(table, rows)), deadLetters.add(unknown), risk?.enforce(scored)]);
    return { events };
  };
}

/** A queued event that never made it, as a dead letter whose payload `dlq replay` can re-queue. */
export function jobDeadLetter(
  sourceApp: string,
  receivedAt: string,
  event: { kind: string; event_id: string; event_type?: string; occurred_at?: string },
  error: string,
  attempts: number,
): DeadLetter {
  return {
    event_id: event.event_id ?? null,
    source_app: sourceApp,
    kind: String(event.kind),
    event_type: String(event.event_type ?? ''),
    occurred_at: event.occurred_at ? toClickHouseTime(event.occurred_at) : null,
    received_at: toClickHouseTime(receivedAt),
    error: error.slice(0, 2000),
    attempts,
    raw_payload: JSON.stringify({ sourceApp, receivedAt, event }),
  };
}
