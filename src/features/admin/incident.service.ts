import { AppError } from '../../lib/errors/app-error';
import type { EventPublisher } from '../../queues/event-publisher';
import { actorFields } from '../audit/actor-fields';
import type { RequestContext } from '../../http/request-context';
import type { LegacyResolutions } from './legacy-resolutions';
import type { ErrorLogRow, EventFilter, EventLogRepository, SecurityEventRow } from './event-log.repository';
import { eventKey, type IncidentKind, type ResolutionRepository, type ResolutionRow } from './resolution.repository';

export interface IncidentQuery {
  severity?: string;
  type?: string;
  /** One source app's events only. */
  app?: string;
  resolved?: boolean;
  limit: number;
  offset: number;
}

interface PageInfo {
  total: number;
  limit: number;
  offset: number;
}

/**
 * Error logs and security events for administrators: read from ClickHouse,
 * with the resolutions kept in PostgreSQL laid over them, and resolved here
 * (each resolution recorded as an audit event). An event is one app's:
 * resolutions are keyed by (source_app, event_id), since two apps may send
 * the same event_id.
 */
export class IncidentService {
  constructor(
    private readonly logs: EventLogRepository,
    private readonly resolutions: ResolutionRepository,
    private readonly events: EventPublisher | undefined,
    /** Resolutions made before they named the app, attached to it before the first read. */
    private readonly legacy?: LegacyResolutions,
  ) {}

  async errorLogs(query: IncidentQuery): Promise<PageInfo & { error_logs: ErrorLogRow[] }> {
    const { rows, total } = await this.logs.errorLogs(await this.filter('error_log', query));
    const resolved = await this.resolutions.byEvents('error_log', rows);
    return { error_logs: rows.map((r) => withErrorResolution(r, resolved.get(eventKey(r.source_app, r.event_id)))), total, limit: query.limit, offset: query.offset };
  }

  async securityEvents(query: IncidentQuery): Promise<PageInfo & { security_events: SecurityEventRow[] }> {
    const { rows, total } = await this.logs.securityEvents(await this.filter('security_event', query));
    const resolved = await this.resolutions.byEvents('security_event', rows);
    return { security_events: rows.map((r) => withSecurityResolution(r, resolved.get(eventKey(r.source_app, r.event_id)))), total, limit: query.limit, offset: query.offset };
  }

  /** `sourceApp`: whose event; it may be left out only while a single app has sent an error log with this id. */
  async resolveErrorLog(eventId: string, sourceApp: string | undefined, notes: string, ctx: RequestContext): Promise<ErrorLogRow> {
    const started = performance.now();
    await this.legacy?.settle();
    const row = one(await this.logs.errorLog(eventId, sourceApp), 'error log', eventId, sourceApp);
    const resolution = await this.resolve('error_log', row, notes, false, ctx);
    const after = withErrorResolution(row, resolution);
    this.audit('error_log_resolved', 'ERROR_LOG', row.source_app, eventId, { resolution_notes: notes, resolved_verification_at: after.resolved_verification_at }, ctx, started);
    return after;
  }

  /** `sourceApp`: whose event; it may be left out only while a single app has sent a security event with this id. */
  async resolveSecurityEvent(eventId: string, sourceApp: string | undefined, notes: string, falsePositive: boolean, ctx: RequestContext): Promise<SecurityEventRow> {
    const started = performance.now();
    await this.legacy?.settle();
    const row = one(await this.logs.securityEvent(eventId, sourceApp), 'security event', eventId, sourceApp);
    const resolution = await this.resolve('security_event', row, notes, falsePositive, ctx);
    const after = withSecurityResolution(row, resolution);
    this.audit('security_event_resolved', 'SECURITY_EVENT', row.source_app, eventId, { analyst_notes: notes, false_positive: falsePositive, resolved_at: after.resolved_at }, ctx, started);
    return after;
  }

  private async filter(kind: IncidentKind, q: IncidentQuery): Promise<EventFilter> {
    await this.legacy?.settle();
    return {
      severity: q.severity,
      type: q.type,
      app: q.app,
      resolved: q.resolved === undefined ? undefined : { value: q.resolved, keys: await this.resolutions.eventKeys(kind) },
      limit: q.limit,
      offset: q.offset,
    };
  }

  private async resolve(kind: IncidentKind, row: { source_app: string; event_id: string; is_resolved: boolean }, notes: string, falsePositive: boolean, ctx: RequestContext): Promise<ResolutionRow> {
    if (row.is_resolved) throw new AppError('CONFLICT', 'this event arrived already resolved by the app that sent it');
    const resolution = await this.resolutions.insert({
      kind,
      source_app: row.source_app,
      event_id: row.event_id,
      resolved_by_admin_id: ctx.actor!.id,
      resolution_notes: notes,
      false_positive: falsePositive,
    });
    if (!resolution) throw new AppError('CONFLICT', 'this event is already resolved');
    return resolution;
  }

  /** The event is named by entity_id (its event_id) and, in metadata, the source_app whose event it is. */
  private audit(eventType: string, entityType: string, sourceApp: string, eventId: string, next: Record<string, unknown>, ctx: RequestContext, started: number): void {
    const actor = actorFields(ctx);
    this.events?.publish({
      kind: 'audit',
      event_type: eventType,
      action_type: 'UPDATE',
      entity_type: entityType,
      entity_id: eventId,
      previous_value: { is_resolved: false },
      new_value: { is_resolved: true, ...next },
      duration_ms: Math.round(performance.now() - started),
      ...actor,
      metadata: { ...actor.metadata, source_app: sourceApp },
    });
  }
}

/** The one event an id (and app) names: NOT_FOUND when none, CONFLICT when several apps sent that id and none was named. */
function one<T extends { source_app: string }>(rows: T[], what: string, eventId: string, sourceApp: string | undefined): T {
  if (rows.length === 0) throw new AppError('NOT_FOUND', `no ${what} ${eventId}${sourceApp === undefined ? '' : ` from ${sourceApp}`}`);
  if (rows.length > 1) {
    throw new AppError('CONFLICT', `${rows.length} apps sent a ${what} with id ${eventId} (${rows.map((r) => r.source_app).join(', ')}): name the one to resolve in source_app`);
  }
  return rows[0]!;
}

function withErrorResolution(row: ErrorLogRow, r: ResolutionRow | undefined): ErrorLogRow {
  if (!r) return row;
  return { ...row, is_resolved: true, resolved_by_admin_id: r.resolved_by_admin_id, resolution_notes: r.resolution_notes, resolved_verification_at: r.resolved_at.toISOString() };
}

function withSecurityResolution(row: SecurityEventRow, r: ResolutionRow | undefined): SecurityEventRow {
  if (!r) return row;
  return { ...row, is_resolved: true, false_positive: r.false_positive, analyst_notes: r.resolution_notes, resolved_at: r.resolved_at.toISOString(), resolved_by: r.resolved_by_admin_id };
}
