import type { ClickHouseRow } from '../../../domain/event-row';
import type { DeadLetter } from '../dead-letters/dead-letter.repository';
import { rowDeadLetter } from './row-dead-letter';
import { rowIdentity } from './row-identity';

/** The rows of `unique` that the table does not hold yet; a stored copy with other content is a conflict. */
export function withoutStored(table: string, unique: Map<string, ClickHouseRow>, stored: Map<string, string>): { rows: ClickHouseRow[]; skipped: number; conflicts: DeadLetter[] } {
  const rows: ClickHouseRow[] = [];
  const conflicts: DeadLetter[] = [];
  let skipped = 0;
  for (const [id, row] of unique) {
    const hash = stored.get(id);
    if (hash === undefined) rows.push(row);
    else if (row.content_hash === hash) skipped++;
    else conflicts.push(rowDeadLetter(table, row, 'conflict: event_id already stored with different content'));
  }
  return { rows, skipped, conflicts };
}

/** Adds to `stored` the rows of `unique` that earlier flushes sealed (identity → content_hash sets), as if ClickHouse held them. */
export function addSealed(stored: Map<string, string>, unique: Map<string, ClickHouseRow>, sealed: Map<string, string>[]): void {
  for (const rows of sealed)
    for (const id of unique.keys()) {
      const hash = rows.get(id);
      if (hash !== undefined) stored.set(id, hash);
    }
}

/** identity → content_hash of rows, as a flush announces them. */
export function identities(rows: ClickHouseRow[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const row of rows) out.set(rowIdentity(row), typeof row.content_hash === 'string' ? row.content_hash : '');
  return out;
}

/** received_at is ClickHouse UTC text (`2025-06-21 14:12:00.000`), which sorts as it reads. */
export function oldestReceivedAt(rows: ClickHouseRow[]): number | undefined {
  let oldest: string | undefined;
  for (const row of rows) if (oldest === undefined || String(row.received_at) < oldest) oldest = String(row.received_at);
  return oldest === undefined ? undefined : Date.parse(`${oldest.replace(' ', 'T')}Z`);
}
