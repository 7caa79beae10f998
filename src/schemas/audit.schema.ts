import { defineEventKind } from './define-event-kind';
import { changeValue, int, ipAddress, jsonObject, label, text, upperLabel, userId } from './fields';

/**
 * `audit`: who did what to which entity, with the value before and after.
 * Covers todo_app_audit_logs, user_audit_logs and user_audit_log, whose
 * event types are the catalog (docs/data-model.md).
 */
export const auditEventSchema = defineEventKind(
  'audit',
  {
    /** The user the event is about (user_audit_logs, user_audit_log). */
    user_id: userId().nullish(),
    /** Free-form action name of user_audit_logs (`password_reset`, `update`); the event type when none is sent. */
    action: label(100).nullish(),
    /**
     * The change kind: CREATE, READ, UPDATE, DELETE, COMPLETE_TOGGLE, EXPORT,
     * ARCHIVE (todo_app_audit_logs). Always stored as such; the event type too
     * only when neither `event_type` nor `action` is sent (that row has no other).
     */
    action_type: upperLabel(32).nullish(),
    /** TODO, USER_ACCOUNT, ADMIN_SETTING, SYSTEM_SETTING (todo_app_audit_logs). */
    entity_type: label(64).nullish(),
    entity_id: text(255).nullish(),
    /** user / admin / system (user_audit_log), authenticatedUser / administrator / system (todo_app_audit_logs `actor_type`). */
    triggered_by_type: label(32).nullish(),
    /** Who performed the action (user_audit_log; todo_app_audit_logs calls it `actor_id`). */
    triggered_by_id: userId().nullish(),
    /** The value before the action (todo_app_audit_logs calls it `old_value`). */
    previous_value: changeValue().optional(),
    new_value: changeValue().optional(),
    /** Why the action was taken (user_audit_log), e.g. "Policy violation". */
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
    // user_audit_logs names its type `action`, todo_app_audit_logs `action_type`; an explicit event_type wins over both.
    eventType: (e) => e.action ?? e.action_type,
    aliases: { old_value: 'previous_value', actor_type: 'triggered_by_type', actor_id: 'triggered_by_id' },
  },
);
