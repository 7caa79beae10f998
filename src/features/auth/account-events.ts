import type { EventPublisher, PublishOptions } from '../../queues/event-publisher';
import { actorFields } from '../audit/actor-fields';
import type { RequestContext } from '../../http/request-context';

export interface AccountEventInput {
  /** Catalog type (docs/data-model.md), e.g. `login_success`, `email_changed`. */
  type: string;
  userId: string | null;
  ctx: RequestContext;
  status?: 'SUCCESS' | 'FAILURE';
  details?: Record<string, unknown>;
  /**
   * For a change to the account: the fields before and after. When given, an
   * audit event (entity USER_ACCOUNT) is recorded too. Never a password or token.
   */
  change?: { previous: Record<string, unknown> | null; next: Record<string, unknown> | null; actionType?: string; reason?: string };
  startedAt?: number;
}

/** Records what happens to accounts: an auth event always, and an audit event for changes. */
export class AccountEvents {
  constructor(private readonly events: EventPublisher | undefined) {}

  record(e: AccountEventInput, options: PublishOptions = {}): void {
    if (!this.events) return;
    const actor = actorFields(e.ctx);
    this.events.publish(
      {
        kind: 'auth',
        event_type: e.type,
        event_status: e.status ?? 'SUCCESS',
        user_id: e.userId,
        ip_address: e.ctx.ip,
        user_agent: e.ctx.userAgent,
        session_id: e.ctx.actor?.sessionId ?? null,
        details: { ...e.details, request_id: e.ctx.requestId },
      },
      options,
    );
    if (e.change) {
      this.events.publish(
        {
          kind: 'audit',
          event_type: e.type,
          user_id: e.userId,
          action_type: e.change.actionType ?? 'UPDATE',
          entity_type: 'USER_ACCOUNT',
          entity_id: e.userId,
          previous_value: e.change.previous,
          new_value: e.change.next,
          reason: e.change.reason ?? null,
          operation_status: e.status ?? 'SUCCESS',
          duration_ms: e.startedAt === undefined ? null : Math.round(performance.now() - e.startedAt),
          ...actor,
          // An anonymous request (register, reset by token) acts as the user it is about.
          triggered_by_type: e.ctx.actor ? actor.triggered_by_type : 'user',
          triggered_by_id: e.ctx.actor ? actor.triggered_by_id : e.userId,
        },
        options,
      );
    }
  }

  /** Any other event kind (failed_login, security, session), published as is. */
  get publisher(): EventPublisher | undefined {
    return this.events;
  }
}
