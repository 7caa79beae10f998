import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '../../../lib/clickhouse';
import { toClickHouseTime } from '../../../domain/event-row';

export interface DeadLetter {
  event_id: string | null;
  source_app: string;
  kind: string;
  event_type: string;
  /** ClickHouse DateTime64 text (`2025-06-21 14:12:00.000`). */
  occurred_at: string | null;
  received_at: string;
  error: string;
  attempts: number;
  /** The event exactly as it was queued, so a replay re-sends it unchanged. */
  raw_payload: string;
}

/** What `raw_payload` holds: enough to put the event back in the ingest queue unchanged. */
export interface DeadLetterPayload {
  sourceApp: string;
  receivedAt: string;
  event: Record<string, unknown> & { kind: string; event_id: string };
}

/** Builds the raw payload of a ClickHouse row that could not be written. */
export function deadLetterPayload(kind: string, row: Record<string, unknown>): string {
  const { source_app, received_at, ...event } = row;
  const payload: DeadLetterPayload = {
    sourceApp: String(source_app),
    receivedAt: String(received_at),
    event: { ...event, kind, client_event_id: true, event_id: String(row.event_id) },
  };
  return JSON.stringify(payload);
}

export interface StoredDeadLetter extends DeadLetter {
  dead_letter_id: string;
  failed_at: string;
}

/** dead_letter_events: events that could not be written, with why. */
export class DeadLetterRepository {
  constructor(private readonly clickhouse: ClickHouseClient) {}

  async add(entries: DeadLetter[]): Promise<void> {
    if (entries.length === 0) return;
    const now = toClickHouseTime(new Date());
    await this.clickhouse.insert({
      table: 'dead_letter_events',
      values: entries.map((e) => ({
        dead_letter_id: randomUUID(),
        ...e,
        failed_at: now,
      })),
      format: 'JSONEachRow',
      clickhouse_settings: { async_insert: 0 },
    });
  }

  /**
   * Entries not replayed yet, oldest first. Conflicts (an event_id already
   * stored with other content) are left out: replaying cannot change them;
   * they stay in the table for a person to look at.
   */
  async pending(limit: number): Promise<StoredDeadLetter[]> {
    const result = await this.clickhouse.query({
      query: `SELECT dead_letter_id, event_id, source_app, kind, event_type, occurred_at, received_at, failed_at, error, attempts, raw_payload
              FROM dead_letter_events
              WHERE dead_letter_id NOT IN (SELECT dead_letter_id FROM dead_letter_replays)
                AND NOT startsWith(error, 'conflict:')
              ORDER BY failed_at
              LIMIT {limit:UInt32}`,
      query_params: { limit },
      format: 'JSONEachRow',
    });
    return result.json<StoredDeadLetter>();
  }

  /** Records the entries as replayed, each under its app (so a key restricted to apps reads its own replays). */
  async markReplayed(entries: Pick<StoredDeadLetter, 'dead_letter_id' | 'source_app'>[]): Promise<void> {
    if (entries.length === 0) return;
    const now = toClickHouseTime(new Date());
    await this.clickhouse.insert({
      table: 'dead_letter_replays',
      values: entries.map(({ dead_letter_id, source_app }) => ({ dead_letter_id, source_app, replayed_at: now })),
      format: 'JSONEachRow',
      clickhouse_settings: { async_insert: 0 },
    });
  }

  async countSince(from: Date, to: Date): Promise<number> {
    const result = await this.clickhouse.query({
      query: `SELECT count() AS n FROM dead_letter_events WHERE failed_at >= {from:DateTime64(3)} AND failed_at < {to:DateTime64(3)}`,
      query_params: { from: toClickHouseTime(from), to: toClickHouseTime(to) },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ n: string | number }>();
    return Number(row?.n ?? 0);
  }
}
