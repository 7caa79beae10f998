import { AppError } from '../../lib/errors/app-error';
import type { EventPublisher } from '../../queues/event-publisher';
import { actorFields } from '../audit/actor-fields';
import type { RequestContext } from '../../http/request-context';
import type { ErrorLogRow, EventFilter, EventLogRepository, SecurityEventRow } from './event-log.repository';
import type { IncidentKind, ResolutionRepository, ResolutionRow } from './resolution.repository';

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
 * (each resolution recorded as an audit event).
 */
export class IncidentService {
  constructor(
    private readonly logs: EventLogRepository,
    private readonly resolutions: ResolutionRepository,
    private readonly events: EventPublisher | undefined,
  ) {}

  async errorLogs(query: IncidentQuery): Promise<PageInfo & { error_logs: ErrorLogRow[] }> {
    const { rows, total } = await this.logs.errorLogs(await this.filter('error_log', query));
    const resolved = await this.resolutions.byEventIds('error_log', rows.map((r) => r.event_id));
    return { error_logs: rows.map((r) => withErrorResolution(r, resolved.get(r.event_id))), total, limit: query.limit, offset: query.offset };
  }

  async securityEvents(query: IncidentQuery): Promise<PageInfo & { security_events: SecurityEventRow[] }> {
    const { rows, total } = await this.logs.securityEvents(await this.filter('security_event', query));
    const resolved = await this.resolutions.byEventIds('security_event', rows.map((r) => r.event_id));
    return { security_events: rows.map((r) => withSecurityResolution(r, resolved.get(r.event_id))), total, limit: query.limit, offset: query.offset };
  }

  async resolveErrorLog(eventId: string, notes: string, ctx: RequestContext): Promise<ErrorLogRow> {
    const started = performance.now();
    const row = await this.logs.errorLog(eventId);
    if (!row) throw new AppError('NOT_FOUND', `no error log ${eventId}`);
    const resolution = await this.resolve('error_log', row, notes, false, ctx);
    const after = withErrorResolution(row, resolution);
    this.audit('error_log_resolved', 'ERROR_LOG', eventId, { resolution_notes: notes, resolved_verification_at: after.resolved_verification_at }, ctx, started);
    return after;
  }

  async resolveSecurityEvent(eventId: string, notes: string, falsePositive: boolean, ctx: RequestContext): Promise<SecurityEventRow> {
    const started = performance.now();
    const row = await this.logs.securityEvent(eventId);
    if (!row) throw new AppError('NOT_FOUND', `no security event ${eventId}`);
    const resolution = await this.resolve('security_event', row, notes, falsePositive, ctx);
    const after = withSecurityResolution(row, resolution);
    this.audit('security_event_resolved', 'SECURITY_EVENT', eventId, { analyst_notes: notes, false_positive: falsePositive, resolved_at: after.resolved_at }, ctx, started);
    return after;
  }

  private async filter(kind: IncidentKind, q: IncidentQuery): Promise<EventFilter> {
    return {
      severity: q.severity,
      type: q.type,
      app: q.app,
      resolved: q.resolved === undefined ? undefined : { value: q.resolved, ids: await this.resolutions.eventIds(kind) },
      limit: q.limit,
      offset: q.offset,
    };
  }

  private async resolve(kind: IncidentKind, row: { event_id: string; is_resolved: boolean }, notes: string, falsePositive: boolean, ctx: RequestContext): Promise<ResolutionRow> {
    if (row.is_resolved) throw new AppError('CONFLICT', 'this event arrived already resolved by the app that sent it');
    const resolution = await this.resolutions.insert({
      kind,
      event_id: row.event_id,
      resolved_by_admin_id: ctx.actor!.id,
      resolution_notes: notes,
      false_positive: falsePositive,
    });
    if (!resolution) throw new AppError('CONFLICT', 'this event is already resolved');
    return resolution;
  }

  private audit(eventType: string, entityType: string, eventId: string, next: Record<string, unknown>, ctx: RequestContext, started: number): void {
    this.events?.publish({
      kind: 'audit',
      event_type: eventType,
      action_type: 'UPDATE',
      entity_type: entityType,
      entity_id: eventId,
      previous_value: { is_resolved: false },
      new_value: { is_resolved: true, ...next },
      duration_ms: Math.round(performance.now() - started),
      ...actorFields(ctx),
    });
  }
}

function withErrorResolution(row: ErrorLogRow, r: ResolutionRow | undefined): ErrorLogRow {
  if (!r) return row;
  return { ...row, is_resolved: true, resolved_by_admin_id: r.resolved_by_admin_id, resolution_notes: r.resolution_notes, resolved_verification_at: r.resolved_at.toISOString() };
}

function withSecurityResolution(row: SecurityEventRow, r: ResolutionRow | undefined): SecurityEventRow {
  if (!r) return row;
  return { ...row, is_resolved: true, false_positive: r.false_positive, analyst_notes: r.resolution_notes, resolved_at: r.resolved_at.toISOString(), resolved_by: r.resolved_by_admin_id };
}
