import { tableOf, toClickHouseRow, type ClickHouseRow } from '../../../domain/event-row';
import { toQueuedEvent } from '../../../domain/queued-event';
import type { Logger } from '../../../lib/logger';
import { parseEvent, type RawEvent } from '../../../schemas/event';
import type { EventSink } from '../../risk/risk-action-emitter';
import type { ClickHouseWriter } from './clickhouse-writer';

/**
 * Events a worker produces itself (the risk worker's locks, unlocks and
 * blocks), validated like any other and handed straight to this process's
 * writer: they are sealed in the same chain, and the writer's event-id
 * deduplication makes emitting one twice harmless.
 */
export class DirectEventSink implements EventSink {
  constructor(
    private readonly writer: ClickHouseWriter,
    private readonly logger: Logger,
  ) {}

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
