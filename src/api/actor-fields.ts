import type { RequestContext } from './request-context';

/** The audit fields that say who acted, from where: shared by every service that records an audit event. */
export function actorFields(ctx: RequestContext | undefined) {
  const actor = ctx?.actor;
  return {
    triggered_by_type: actor ? (actor.type === 'admin' ? 'admin' : actor.type === 'api_key' ? 'system' : 'user') : 'system',
    triggered_by_id: actor?.id ?? null,
    ip_address: ctx?.ip ?? null,
    user_agent: ctx?.userAgent ?? null,
    session_id: actor?.sessionId ?? null,
    metadata: ctx ? { request_id: ctx.requestId } : undefined,
  };
}
