import { fromClickHouseTime, toClickHouseTime } from '../../domain/event-row';
import type { ClickHouseReader } from '../../queues/clickhouse-reader';
import { EVENT_KIND_NAMES, EVENT_TABLES, type EventKind } from '../../schemas/event';

/** One event about a user, whatever its kind, in the columns every kind can fill. */
export interface TimelineEvent {
  kind: EventKind;
  event_id: string;
  event_type: string;
  occurred_at: string;
  source_app: string;
  /** The kind's outcome: operation/event status, severity, failure reason, HTTP status… */
  outcome: string | null;
  ip_address: string | null;
  /** One line saying what happened: the entity acted on, the description, the endpoint… */
  summary: string | null;
  /** Who acted (audit events): `<triggered_by_type>:<triggered_by_id>`. */
  actor: string | null;
  reason: string | null;
  /** The value before and after (audit events), as JSON text. */
  previous_value: string | null;
  new_value: string | null;
  /** The kind's JSON column (details, metadata, technical details, location), as JSON text. */
  details: string | null;
}

/** Where a timeline page starts: after (or before, newest first) this event. */
export interface TimelinePosition {
  occurredAt: Date;
  eventId: string;
}

/**
 * How each table fills the timeline's columns, and which column names the
 * user. Every table's sort key or a bloom-filter index covers that column
 * (clickhouse/001), so a user's rows are found without a full scan.
 */
const SOURCES: Record<EventKind, { user: string; outcome: string; ip: string; summary: string; actor: string; reason: string; previous: string; next: string; details: string }> = {
  audit: {
    user: 'user_id',
    outcome: 'operation_status',
    ip: 'ip_address',
    summary: `arrayStringConcat(arrayFilter(x -> x != '', [ifNull(action_type, ifNull(action, '')), ifNull(entity_type, ''), ifNull(entity_id, '')]), ' ')`,
    actor: `if(triggered_by_type IS NULL, NULL, concat(triggered_by_type, ':', ifNull(triggered_by_id, '')))`,
    reason: 'ifNull(reason, failure_reason)',
    previous: 'toJSONString(previous_value)',
    next: 'toJSONString(new_value)',
    details: 'toJSONString(metadata)',
  },
  auth: { user: 'user_id', outcome: 'event_status', ip: 'ip_address', summary: 'user_agent', actor: 'NULL', reason: 'NULL', previous: 'NULL', next: 'NULL', details: 'toJSONString(details)' },
  security: {
    user: 'user_id',
    outcome: 'severity_level',
    ip: 'ip_address',
    summary: 'event_description',
    actor: 'NULL',
    reason: 'action_taken',
    previous: 'NULL',
    next: 'NULL',
    details: 'toJSONString(metadata)',
  },
  failed_login: {
    user: 'user_id',
    outcome: 'failure_reason',
    ip: 'ip_address',
    summary: 'email_address',
    actor: 'NULL',
    reason: 'lockout_status',
    previous: 'NULL',
    next: 'NULL',
    details: 'toJSONString(metadata)',
  },
  error: {
    user: 'user_context',
    outcome: 'severity_level',
    ip: 'NULL',
    summary: 'error_message',
    actor: 'NULL',
    reason: 'error_code',
    previous: 'NULL',
    next: 'NULL',
    details: 'toJSONString(technical_details)',
  },
  api_access: {
    user: 'user_id',
    outcome: 'response_status',
    ip: 'ip_address',
    summary: `concat(method, ' ', endpoint)`,
    actor: 'api_key_id',
    reason: 'NULL',
    previous: 'NULL',
    next: 'NULL',
    details: 'NULL',
  },
  rate_limit: {
    user: 'user_id',
    outcome: 'violation_type',
    ip: 'ip_address',
    summary: 'endpoint',
    actor: 'NULL',
    reason: `concat(toString(request_count), ' requests, limit ', toString(limit_threshold), ' per ', toString(time_window_minutes), ' min')`,
    previous: 'NULL',
    next: 'NULL',
    details: 'NULL',
  },
  session: {
    user: 'user_id',
    outcome: `if(is_active, 'active', ifNull(logout_reason, 'ended'))`,
    ip: 'ip_address',
    summary: 'session_id',
    actor: 'NULL',
    reason: 'NULL',
    previous: 'NULL',
    next: 'NULL',
    details: 'toJSONString(location)',
  },
};

/** Every event about one user across the event tables, in time order, a page at a time (keyset on occurred_at, event_id). */
export class UserTimelineRepository {
  constructor(private readonly reader: ClickHouseReader) {}

  async page(userId: string, options: { kinds: EventKind[]; order: 'asc' | 'desc'; after?: TimelinePosition; limit: number; app?: string }): Promise<TimelineEvent[]> {
    const direction = options.order === 'asc' ? 'ASC' : 'DESC';
    const past = options.order === 'asc' ? '>' : '<';
    const position = options.after ? `AND (occurred_at, event_id) ${past} ({at:DateTime64(3, 'UTC')}, {id:UUID})` : '';
    // Each table gives at most `limit` rows in order, so the union sorts at most kinds × limit.
    // Only the catalog's own kind names and table names are spliced into the SQL; values are bound.
    const parts = EVENT_KIND_NAMES.filter((k) => options.kinds.includes(k)).map((kind) => {
      const s = SOURCES[kind];
      return `(SELECT '${kind}' AS kind, event_id, event_type, occurred_at, source_app,
          CAST(${s.outcome} AS Nullable(String)) AS outcome, CAST(${s.ip} AS Nullable(String)) AS ip_address, CAST(${s.summary} AS Nullable(String)) AS summary,
          CAST(${s.actor} AS Nullable(String)) AS actor, CAST(${s.reason} AS Nullable(String)) AS reason,
          CAST(${s.previous} AS Nullable(String)) AS previous_value, CAST(${s.next} AS Nullable(String)) AS new_value, CAST(${s.details} AS Nullable(String)) AS details
        FROM ${EVENT_TABLES[kind]} WHERE ${s.user} = {user:String} ${position} ${options.app === undefined ? '' : 'AND source_app = {app:String}'}
        ORDER BY occurred_at ${direction}, event_id ${direction} LIMIT {limit:UInt32})`;
    });
    const rows = await this.reader.query<TimelineEvent>(`SELECT * FROM (${parts.join(' UNION ALL ')}) ORDER BY occurred_at ${direction}, event_id ${direction} LIMIT {limit:UInt32}`, {
      user: userId,
      limit: options.limit,
      ...(options.app === undefined ? {} : { app: options.app }),
      ...(options.after ? { at: toClickHouseTime(options.after.occurredAt), id: options.after.eventId } : {}),
    });
    return rows.map((r) => ({ ...r, occurred_at: fromClickHouseTime(r.occurred_at) }));
  }
}
