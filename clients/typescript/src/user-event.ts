import type { AuditEventInput } from './types';

/** Seed 004's optional fields, in its camelCase names. */
export interface UserEventOptions {
  reason?: AuditEventInput['reason'];
  triggeredByType?: AuditEventInput['triggered_by_type'];
  triggeredById?: AuditEventInput['triggered_by_id'];
  ipAddress?: AuditEventInput['ip_address'];
  userAgent?: AuditEventInput['user_agent'];
  sessionId?: AuditEventInput['session_id'];
  entityType?: AuditEventInput['entity_type'];
  entityId?: AuditEventInput['entity_id'];
  metadata?: AuditEventInput['metadata'];
  /** When it happened; default: now (at enqueue). */
  occurredAt?: string | Date;
}

/** Seed 004's object form: `logUserEvent({ userId, eventType, previousValue, newValue, ... })`. */
export interface UserEventParams extends UserEventOptions {
  userId: AuditEventInput['user_id'];
  eventType: string;
  previousValue?: AuditEventInput['previous_value'];
  newValue?: AuditEventInput['new_value'];
}

/** Maps seed 004's `user_audit_log` helper call onto an `audit` event (fields left unset are not sent). */
export function userAuditEvent(params: UserEventParams): AuditEventInput {
  const event: AuditEventInput = {
    kind: 'audit',
    event_type: params.eventType,
    user_id: params.userId,
    previous_value: params.previousValue,
    new_value: params.newValue,
    reason: params.reason,
    triggered_by_type: params.triggeredByType,
    triggered_by_id: params.triggeredById,
    ip_address: params.ipAddress,
    user_agent: params.userAgent,
    session_id: params.sessionId,
    entity_type: params.entityType,
    entity_id: params.entityId,
    metadata: params.metadata,
    occurred_at: params.occurredAt instanceof Date ? params.occurredAt.toISOString() : params.occurredAt,
  };
  for (const key of Object.keys(event) as (keyof AuditEventInput)[]) if (event[key] === undefined) delete event[key];
  return event;
}
