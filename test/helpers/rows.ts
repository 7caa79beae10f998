import { randomUUID } from 'node:crypto';
import { toClickHouseRow, type ClickHouseRow } from '../../src/domain/event-row';
import { toQueuedEvent } from '../../src/domain/queued-event';
import { parseEvent } from '../../src/schemas/event';

/** One audit_logs row of `app`, as the ingest processor hands it to the writer, received now. */
export function auditRow(app: string, userId = 'u-1'): ClickHouseRow {
  const raw = { kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: userId };
  const parsed = parseEvent(raw);
  if (!parsed.ok) throw new Error('bad fixture');
  return toClickHouseRow(toQueuedEvent(parsed.event, raw), app, new Date().toISOString());
}
