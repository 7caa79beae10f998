import type { EventPublisher } from '../../queues/event-publisher';
import { actorFields } from '../audit/actor-fields';
import type { RequestContext } from '../../http/request-context';
import type { TodoOwner } from './todo.repository';

/**
 * action_type and event_type of each audited todo action. A restore is
 * `RESTORE`: todo_app_audit_logs' `ARCHIVE` names a different state (put away, not
 * deleted), so using it for "undelete" would mislead anyone filtering on it.
 */
export const TODO_ACTIONS = {
  created: { actionType: 'CREATE', eventType: 'todo_created' },
  viewed: { actionType: 'READ', eventType: 'todo_viewed' },
  historyViewed: { actionType: 'READ', eventType: 'todo_history_viewed' },
  updated: { actionType: 'UPDATE', eventType: 'todo_updated' },
  completionToggled: { actionType: 'COMPLETE_TOGGLE', eventType: 'todo_completion_toggled' },
  deleted: { actionType: 'DELETE', eventType: 'todo_deleted' },
  restored: { actionType: 'RESTORE', eventType: 'todo_restored' },
} as const;

export type TodoAction = keyof typeof TODO_ACTIONS;

export interface TodoAuditInput {
  action: TodoAction;
  todoId: string;
  owner: TodoOwner;
  ctx: RequestContext;
  startedAt: number;
  previous?: Record<string, unknown> | null;
  next?: Record<string, unknown> | null;
  /** Names of the fields that changed: kept in metadata because a field set to null is dropped from new_value. */
  changedFields?: string[];
  /** Set for a refused action on the owner's own todo (restore too late…). */
  failureReason?: string;
}

/** Records what happens to todos: audit events for actions, security events for attempts on other owners' todos. */
export class TodoEvents {
  constructor(private readonly events: EventPublisher | undefined) {}

  audit(e: TodoAuditInput): void {
    if (!this.events) return;
    const { actionType, eventType } = TODO_ACTIONS[e.action];
    const actor = actorFields(e.ctx);
    this.events.publish({
      kind: 'audit',
      event_type: eventType,
      user_id: e.owner.id,
      action_type: actionType,
      entity_type: 'TODO',
      entity_id: e.todoId,
      previous_value: e.previous ?? null,
      new_value: e.next ?? null,
      operation_status: e.failureReason ? 'FAILURE' : 'SUCCESS',
      failure_reason: e.failureReason ?? null,
      duration_ms: Math.round(performance.now() - e.startedAt),
      ...actor,
      metadata: { ...actor.metadata, ...(e.changedFields ? { changed_fields: e.changedFields } : {}) },
    });
  }

  /**
   * Someone asked for a todo that exists but is not theirs. They were told
   * 404, as for a missing todo; this is the record that it happened. Attempts
   * to change it weigh more than attempts to read it.
   */
  permissionViolation(e: { todoId: string; requester: TodoOwner; owner: TodoOwner; operation: string; writes: boolean; ctx: RequestContext }): void {
    this.events?.publish({
      kind: 'security',
      event_type: 'PERMISSION_VIOLATION',
      severity_level: e.writes ? 'HIGH' : 'MEDIUM',
      user_id: e.requester.id,
      event_source: 'TODO_API',
      event_description: `${e.requester.type} ${e.requester.id} tried to ${e.operation} todo ${e.todoId}, which belongs to another account`,
      ip_address: e.ctx.ip,
      resource_involved: e.todoId,
      action_taken: 'REQUEST_BLOCKED',
      metadata: {
        request_id: e.ctx.requestId,
        operation: e.operation,
        requester_type: e.requester.type,
        owner_type: e.owner.type,
        owner_id: e.owner.id,
        user_agent: e.ctx.userAgent,
      },
    });
  }
}
