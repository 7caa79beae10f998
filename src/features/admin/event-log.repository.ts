import { fromClickHouseTime } from '../../domain/event-row';
import type { ClickHouseReader } from '../../queues/clickhouse-reader';

/** An error_logs row as administrators see it (timestamps in ISO 8601). */
export interface ErrorLogRow {
  event_id: string;
  source_app: string;
  event_type: string;
  occurred_at: string;
  received_at: string;
  error_code: string;
  error_type: string;
  severity_level: string;
  error_message: string;
  technical_details: Record<string, unknown> | null;
  operation_type: string | null;
  resource_id: string | null;
  resource_type: string | null;
  user_context: string | null;
  request_path: string | null;
  http_status_code: number | null;
  is_resolved: boolean;
  resolved_by_admin_id: string | null;
  resolution_notes: string | null;
  resolved_verification_at: string | null;
}

/** A security_events row as administrators see it. */
export interface SecurityEventRow {
  event_id: string;
  source_app: string;
  event_type: string;
  occurred_at: string;
  received_at: string;
  user_id: string;
  severity_level: string;
  user_email: string | null;
  event_source: string;
  event_description: string;
  ip_address: string | null;
  resource_involved: string | null;
  action_taken: string | null;
  metadata: Record<string, unknown> | null;
  event_category: string | null;
  threat_type: string | null;
  attack_vector: string | null;
  detection_method: string | null;
  is_resolved: boolean;
  false_positive: boolean;
  analyst_notes: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
}

export interface EventFilter {
  severity?: string;
  /** Security events only. */
  type?: string;
  /** One source app's events only. */
  app?: string;
  /**
   * Resolved or not: resolved when the stored row says so (an app sent it
   * resolved) or its (source_app, event_id) is in `keys` (resolved here,
   * kept in PostgreSQL; resolution.repository eventKey).
   */
  resolved?: { value: boolean; keys: string[] };
  limit: number;
  offset: number;
}

const ERROR_COLUMNS = `event_id, source_app, event_type, occurred_at, received_at, error_code, error_type, severity_level,
  error_message, technical_details, operation_type, resource_id, resource_type, user_context, request_path, http_status_code,
  is_resolved, resolved_by_admin_id, resolution_notes, resolved_verification_at`;

const SECURITY_COLUMNS = `event_id, source_app, event_type, occurred_at, received_at, user_id, severity_level, user_email,
  event_source, event_description, ip_address, resource_involved, action_taken, metadata, event_category, threat_type, attack_vector,
  detection_method, is_resolved, false_positive, analyst_notes, resolved_at, resolved_by`;

/**
 * Reads error_logs and security_events from ClickHouse, through the API's
 * reader. Every value is a bound parameter (`{name:Type}`), never spliced.
 */
export class EventLogRepository {
  constructor(private readonly reader: ClickHouseReader) {}

  async errorLogs(filter: EventFilter): Promise<{ rows: ErrorLogRow[]; total: number }> {
    return this.page<ErrorLogRow>('error_logs', ERROR_COLUMNS, filter, ['resolved_verification_at']);
  }

  /** The error logs with this id: one per app that sent one, or that app's only when `app` is given. */
  async errorLog(eventId: string, app?: string): Promise<ErrorLogRow[]> {
    return this.byId<ErrorLogRow>('error_logs', ERROR_COLUMNS, eventId, app, ['resolved_verification_at']);
  }

  async securityEvents(filter: EventFilter): Promise<{ rows: SecurityEventRow[]; total: number }> {
    return this.page<SecurityEventRow>('security_events', SECURITY_COLUMNS, filter, ['resolved_at']);
  }

  /** The security events with this id: one per app that sent one, or that app's only when `app` is given. */
  async securityEvent(eventId: string, app?: string): Promise<SecurityEventRow[]> {
    return this.byId<SecurityEventRow>('security_events', SECURITY_COLUMNS, eventId, app, ['resolved_at']);
  }

  private async page<T extends { occurred_at: string; received_at: string }>(
    table: 'error_logs' | 'security_events',
    columns: string,
    filter: EventFilter,
    timeColumns: string[],
  ): Promise<{ rows: T[]; total: number }> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit, offset: filter.offset };
    if (filter.severity) {
      where.push('severity_level = {severity:String}');
      params.severity = filter.severity;
    }
    if (filter.type) {
      where.push('event_type = {type:String}');
      params.type = filter.type;
    }
    if (filter.app) {
      where.push('source_app = {app:String}');
      params.app = filter.app;
    }
    if (filter.resolved) {
      params.resolved_keys = filter.resolved.keys;
      // The key of resolution.repository's eventKey: an app's event, not every app's event with that id.
      const resolvedHere = `has({resolved_keys:Array(String)}, concat(source_app, ' ', toString(event_id)))`;
      where.push(filter.resolved.value ? `(is_resolved OR ${resolvedHere})` : `(NOT is_resolved AND NOT ${resolvedHere})`);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [count] = await this.reader.query<{ total: number }>(`SELECT count() AS total FROM ${table} ${clause}`, params);
    const rows = await this.reader.query<T>(`SELECT ${columns} FROM ${table} ${clause} ORDER BY occurred_at DESC, event_id LIMIT {limit:UInt32} OFFSET {offset:UInt32}`, params);
    return { rows: rows.map((r) => isoTimes(r, timeColumns)), total: Number(count?.total ?? 0) };
  }

  private async byId<T extends { occurred_at: string; received_at: string }>(table: string, columns: string, eventId: string, app: string | undefined, timeColumns: string[]): Promise<T[]> {
    const rows = await this.reader.query<T>(
      `SELECT ${columns} FROM ${table} WHERE event_id = {id:UUID}${app === undefined ? '' : ' AND source_app = {app:String}'} ORDER BY source_app LIMIT 1 BY source_app LIMIT 100`,
      { id: eventId, ...(app === undefined ? {} : { app }) },
    );
    return rows.map((r) => isoTimes(r, timeColumns));
  }
}

function isoTimes<T>(row: T, extra: string[]): T {
  const out = { ...row } as Record<string, unknown>;
  for (const k of ['occurred_at', 'received_at', ...extra]) {
    const v = out[k];
    if (typeof v === 'string' && v) out[k] = fromClickHouseTime(v);
  }
  return out as T;
}
