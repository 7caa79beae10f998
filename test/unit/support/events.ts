import { toClickHouseRow, type ClickHouseRow, type QueuedEvent } from '../../../src/domain/event-row';
import { toQueuedEvent } from '../../../src/domain/queued-event';
import { parseEvent } from '../../../src/schemas/event';

/** An event as the ingest API queues it: validated (defaults and inferred fields filled in), dates as ISO text. */
export function queuedEvent(raw: Record<string, unknown>): QueuedEvent {
  const parsed = parseEvent(raw);
  if (!parsed.ok) throw new Error(`fixture event does not validate: ${JSON.stringify(parsed.issues)}`);
  return toQueuedEvent(parsed.event, raw);
}

/** An event as the ingest worker writes it: queued, then mapped to its table's columns. */
export function ingestedRow(raw: Record<string, unknown>, sourceApp = 'unit-app', receivedAt = '2026-11-22T03:37:50.000Z'): ClickHouseRow {
  return toClickHouseRow(queuedEvent(raw), sourceApp, receivedAt);
}
