import type { EventKind, IngestEvent } from '../schemas/event';
import { EVENT_KIND_NAMES, EVENT_KINDS, EVENT_TABLES } from '../schemas/event';

/** A Date as it travels in a job payload: an ISO 8601 string. */
type Serialized<T> = T extends Date ? string : T extends object ? { [K in keyof T]: Serialized<T[K]> } : T;

/** One validated event as the ingest API hands it to the worker. */
export type QueuedEvent = Serialized<IngestEvent> & {
  /** SHA-256 of the event as the client sent it (canonical JSON): same id + other hash = a conflict. */
  content_hash: string;
};

export type ClickHouseRow = Record<string, unknown>;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * The date columns of each kind: occurred_at and every field its schema reads
 * as a timestamp (expires_at, resolved_at…), which a job carries as ISO strings.
 * Only these are written in ClickHouse's DateTime text form: a text field that
 * merely holds an ISO instant (`reason: "2025-06-21T14:12:00Z"`) is stored as sent.
 */
const DATE_FIELDS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  EVENT_KIND_NAMES.map((kind) => {
    const shape = EVENT_KINDS[kind].input.shape as Record<string, { safeParse(value: unknown): { success: boolean; data?: unknown } }>;
    const dates = EVENT_KINDS[kind].fieldNames.filter((name) => shape[name]?.safeParse('2000-01-01T00:00:00Z').data instanceof Date);
    return [kind, new Set(['occurred_at', ...dates])];
  }),
);
const ENVELOPE_DATES: ReadonlySet<string> = new Set(['occurred_at']);

/** `2025-06-21T14:12:00.000Z` → `2025-06-21 14:12:00.000`, the DateTime64 text form. */
export function toClickHouseTime(iso: string | Date): string {
  const s = typeof iso === 'string' ? iso : iso.toISOString();
  return s.replace('T', ' ').replace('Z', '');
}

/** ClickHouse writes DateTime64 as `2025-06-21 14:12:00.000` (UTC here); the API speaks ISO 8601. */
export function fromClickHouseTime(value: string): string {
  return new Date(`${value.replace(' ', 'T')}Z`).toISOString();
}

export function tableOf(kind: EventKind): string {
  return EVENT_TABLES[kind];
}

/** Maps a queued event to its table's row: dates in ClickHouse text form, envelope columns added. */
export function toClickHouseRow(event: QueuedEvent, sourceApp: string, receivedAt: string): ClickHouseRow {
  // The row is the rest of a destructuring, with the envelope stored by name. Not a store per key:
  // V8 turns an object built by twenty-odd keyed stores into a dictionary, and every step after
  // (row hash, seal, compactRows) reads each row's columns. Nor `{ ...rest, source_app, … }`: that
  // literal gave every row a map of its own, at 3.6 µs a row against 0.4 (docs/performance.md).
  // kind and client_event_id are facts about the event, not columns.
  const { kind: _kind, client_event_id: _clientEventId, ...row }: ClickHouseRow = event;
  // The envelope last: the server's facts, whatever a job's fields say.
  row.source_app = sourceApp;
  row.received_at = toClickHouseTime(receivedAt);
  const dates = DATE_FIELDS.get(event.kind) ?? ENVELOPE_DATES;
  for (const key in row) {
    if (key === 'source_app' || key === 'received_at') continue;
    const value = row[key];
    if (value === undefined) delete row[key];
    else if (typeof value === 'string' && dates.has(key) && ISO_DATE.test(value)) row[key] = toClickHouseTime(value);
  }
  // user_id is in sort keys, which are not Nullable: an absent user is ''. (error_logs has user_context instead.)
  if (event.kind !== 'error') row.user_id ??= '';
  // The seed tables generate these with gen_random_uuid() (docs/data-model.md); deriving them from the
  // event id keeps a re-sent event byte-identical, so retries stay idempotent.
  if (event.kind === 'auth') row.correlation_id ??= event.event_id;
  if (event.kind === 'api_access') row.request_id ??= event.event_id;
  return row;
}
