import type { ClickHouseRow } from '../../../domain/event-row';
import { EVENT_TABLES } from '../../../schemas/event';
import { deadLetterPayload, type DeadLetter } from '../dead-letters/dead-letter.repository';

/** A row the writer will not store, as dead_letter_events keeps it: its identity, its error, its payload. */
export function rowDeadLetter(table: string, row: ClickHouseRow, error: string): DeadLetter {
  return {
    event_id: typeof row.event_id === 'string' ? row.event_id : null,
    source_app: String(row.source_app ?? ''),
    kind: kindOfTable(table),
    event_type: String(row.event_type ?? ''),
    occurred_at: typeof row.occurred_at === 'string' ? row.occurred_at : null,
    received_at: String(row.received_at),
    error,
    attempts: 1,
    raw_payload: deadLetterPayload(kindOfTable(table), row),
  };
}

/** The error of a row ClickHouse refused, as its dead letter records it. */
export function insertRejected(error: unknown): string {
  return `insert rejected: ${(error instanceof Error ? error.message : String(error)).slice(0, 2000)}`;
}

const TABLE_KINDS = new Map<string, string>(Object.entries(EVENT_TABLES).map(([kind, table]) => [table, kind]));

function kindOfTable(table: string): string {
  return TABLE_KINDS.get(table) ?? table;
}
