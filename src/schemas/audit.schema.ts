import { defineEventKind } from './define-event-kind';
import { changeValue, int, ipAddress, jsonObject, label, text, upperLabel, userId } from './fields';

/**
 * `audit`: who did what to which entity, with the value before and after.
 * Covers todo_app_audit_logs (seed 002), user_audit_logs (seed 001) and
 * user_audit_log (seed 004, whose event types are the catalog).
 */
export const auditEventSchema = defineEventKind(
  'audit',
  {
    /** The user the event is about (seeds 001, 004). */
    user_id: userId().nullish(),
    /** Free-form action name of seed 001 (`password_reset`, `update`); the event type when none is sent. */
    action: label(100).nullish(),
    /**
     * The change kind: CREATE, READ, UPDATE, DELETE, COMPLETE_TOGGLE, EXPORT,
     * ARCHIVE (seed 002). Always stored as such; the event type too only when
     * neither `event_type` nor `action` is sent (seed 002's audit row has no other).
     */
    action_type: upperLabel(32).nullish(),
    /** TODO, USER_ACCOUNT, ADMIN_SETTING, SYSTEM_SETTING (seed 002). */
    entity_type: label(64).nullish(),
    entity_id: text(255).nullish(),
    /** user / admin / system (seed 004), authenticatedUser / administrator / system (seed 002 `actor_type`). */
    triggered_by_type: label(32).nullish(),
    /** Who performed the action (seed 004; seed 002 calls it `actor_id`). */
    triggered_by_id: userId().nullish(),
    /** The value before the action (seed 002 calls it `old_value`). */
    previous_value: changeValue().optional(),
    new_value: changeValue().optional(),
    /** Why the action was taken (seed 004), e.g. "Policy violation". */
    reason: text(2000).nullish(),
    /** SUCCESS, FAILURE, PARTIAL_SUCCESS. */
    operation_status: upperLabel(32).default('SUCCESS'),
    failure_reason: text(2000).nullish(),
    ip_address: ipAddress().nullish(),
    user_agent: text(2048).nullish(),
    session_id: text(255).nullish(),
    duration_ms: int(0, 2_147_483_647).nullish(),
    metadata: jsonObject().optional(),
  },
  {
    table: 'audit_logs',
    // Seed 001 names its type `action`, seed 002 `action_type`; an explicit event_type wins over both.
    eventType: (e) => e.action ?? e.action_type,
    aliases: { old_value: 'previous_value', actor_type: 'triggered_by_type', actor_id: 'triggered_by_id' },
  },
);
