import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { EventPublisher } from '../queues/event-publisher';

/** Who is acting on a request, once it is authenticated. */
export interface Actor {
  type: 'user' | 'admin' | 'api_key' | 'guest';
  id: string;
  email?: string;
  sessionId?: string;
}

/** Per-request facts every service needs to record an event. */
export interface RequestContext {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  startedAt: number;
  actor?: Actor;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      ctx: RequestContext;
    }
  }
}

/** `::ffff:10.0.0.1` → `10.0.0.1`: one spelling per client address. */
export function normalizeIp(ip: string | undefined): string | null {
  if (!ip) return null;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** Requests that are not API calls and would only add noise to api_access_log (the dashboard's data calls are recorded). */
const NOT_RECORDED = /^\/(healthz|readyz|metrics|docs|openapi\.json|dashboard)(\/|$)/;

/**
 * Gives each request an id (echoed as X-Request-Id) and, when it finishes,
 * records it as an api_access event: method, route, status, time, bytes,
 * and the user or API key behind it.
 */
export function requestContext(events: EventPublisher | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && /^[A-Za-z0-9_.:-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    res.locals.ctx = {
      requestId,
      ip: normalizeIp(req.ip),
      userAgent: req.get('user-agent')?.slice(0, 2048) ?? null,
      startedAt: performance.now(),
    };
    res.set('X-Request-Id', requestId);
    if (events && !NOT_RECORDED.test(req.path)) {
      res.once('finish', () => {
        const ctx = res.locals.ctx;
        // The route pattern, not the path: ids stay out of the key, and so do any secrets in a path.
        // A mounted app (Bull Board) may leave a route with several paths; and inside a mount, req.path is relative.
        const route = typeof req.route?.path === 'string' ? `${req.baseUrl}${req.route.path}` : req.originalUrl.split('?')[0]!.slice(0, 512);
        events.publish({
          kind: 'api_access',
          method: req.method,
          endpoint: route || '/',
          response_status: res.statusCode,
          response_time_ms: Math.round(performance.now() - ctx.startedAt),
          bytes_sent: Number(res.getHeader('content-length') ?? 0) || 0,
          bytes_received: Number(req.get('content-length') ?? 0) || 0,
          ip_address: ctx.ip,
          user_agent: ctx.userAgent,
          user_id: ctx.actor && ctx.actor.type !== 'api_key' ? ctx.actor.id : null,
          api_key_id: ctx.actor?.type === 'api_key' ? ctx.actor.id : null,
          request_headers: { 'content-type': req.get('content-type') ?? null, 'x-request-id': requestId },
        });
      });
    }
    next();
  };
}
