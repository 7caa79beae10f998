import { tableOf, toClickHouseRow, type ClickHouseRow } from '../../../domain/event-row';
import { OWN_SOURCE_APP } from '../../../domain/own-source-app';
import { toQueuedEvent } from '../../../domain/queued-event';
import type { Logger } from '../../../lib/logger';
import { parseEvent, type RawEvent } from '../../../schemas/event';
import type { EventSink } from '../../risk/risk-action-emitter';
import type { ClickHouseWriter } from './clickhouse-writer';

/**
 * Events a worker produces itself (the risk worker's locks, unlocks and
 * blocks, and the audit events of a worker-only process), validated like any other and handed straight to this process's
 * writer: they are sealed in the same chain, and the writer's event-id
 * deduplication makes emitting one twice harmless.
 */
export class DirectEventSink implements EventSink {
  constructor(
    private readonly writer: ClickHouseWriter,
    private readonly logger: Logger,
  ) {}

  /** One event of auditflow's own, now, not awaited (an audit outlet, as the API's publisher is): a failure is logged. */
  publish(event: RawEvent): void {
    this.write(OWN_SOURCE_APP, new Date().toISOString(), [event]).catch((error: unknown) => this.logger.error({ err: error }, 'an event of our own could not be written'));
  }

  async write(sourceApp: string, receivedAt: string, events: RawEvent[]): Promise<void> {
    const byTable = new Map<string, ClickHouseRow[]>();
    for (const raw of events) {
      const parsed = parseEvent(raw);
      if (!parsed.ok) {
        // Our own code built it: a bug to fix, not a reason to fail the job that found the attack.
        this.logger.error({ kind: raw.kind, issues: parsed.issues }, 'the risk worker built an invalid event; it was not stored');
        continue;
      }
      const table = tableOf(parsed.event.kind);
      const rows = byTable.get(table) ?? [];
      rows.push(toClickHouseRow(toQueuedEvent(parsed.event, raw), sourceApp, receivedAt));
      byTable.set(table, rows);
    }
    await Promise.all([...byTable].map(([table, rows]) => this.writer.write(table, rows)));
  }
}
