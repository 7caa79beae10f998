import { requestActor } from './privileged-action-auditor';
import type { RequestContext } from '../../http/request-context';

/**
 * The audit fields that say who acted, from where: shared by every service that records an audit event.
 * An API key is named as itself (`api_key`, its name), not as `system`: the key is who made the change.
 */
export function actorFields(ctx: RequestContext | undefined) {
  const actor = requestActor(ctx);
  return {
    triggered_by_type: actor.type,
    triggered_by_id: actor.id,
    ip_address: actor.ip ?? null,
    user_agent: actor.userAgent ?? null,
    session_id: actor.sessionId ?? null,
    metadata: ctx ? actor.details : undefined,
  };
}
