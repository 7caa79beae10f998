import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../lib/errors/app-error';
import { ERROR_CATALOG } from '../lib/errors/error-catalog';
import { Acknowledgements, type EventPublisher } from '../queues/event-publisher';
import type { RawEvent } from '../schemas/event';

/** Who is acting on a request, once it is authenticated. */
export interface Actor {
  type: 'user' | 'admin' | 'api_key' | 'guest';
  id: string;
  /** An API key's name: the actor its audit events name. */
  name?: string;
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

/** Whether requests to this path are recorded (api_access), and so answered only once their events are. */
export function isRecordedPath(path: string): boolean {
  return !NOT_RECORDED.test(path);
}

/** While Redis is down and the spool full, nothing the API does could be recorded: it refuses to act at all. */
export const UNRECORDABLE = 'events cannot be recorded right now (Redis is unreachable and the local spool is full); retry later';

/**
 * Gives each request an id (echoed as X-Request-Id) and, as it is answered,
 * records it as an api_access event: method, route, status, time, bytes,
 * and the user or API key behind it.
 *
 * Nothing is acknowledged that is not recorded: the response is held back
 * (`res.end` is wrapped, as express-session does to save a session first)
 * until every event the request published, its api_access event included, is
 * in Redis or synced to the spool. If one could not be, a success becomes a
 * 503: the user is not told that an action went unaudited was fine.
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
    if (!events || !isRecordedPath(req.path)) {
      next();
      return;
    }

    const acks = new Acknowledgements();
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    let ending = false;
    res.end = ((...args: unknown[]) => {
      if (ending) return end(...args);
      ending = true;
      // A refused request (4xx or 5xx) acknowledged nothing: its record must not use up the spool's half kept for
      // acknowledged actions, or anyone could fill it with requests that need no credential while Redis is down.
      events.recording(acks, () => events.publish(accessEvent(req, res), { bestEffort: res.statusCode >= 400 }));
      events.sendNow();
      void acks.settled().then((failure) => {
        if (failure && res.statusCode < 500 && !res.headersSent) return end(...unrecorded(res));
        end(...args);
      });
      return res;
    }) as Response['end'];
    if (!events.canRecord()) {
      next(new AppError('UNAVAILABLE', UNRECORDABLE, { retryAfterSeconds: 5 }));
      return;
    }
    events.recording(acks, next);
  };
}

/** The request as an api_access event, as it is being answered. */
function accessEvent(req: Request, res: Response): RawEvent {
  const ctx = res.locals.ctx;
  // The route pattern, not the path: ids stay out of the key, and so do any secrets in a path.
  // A mounted app (Bull Board) may leave a route with several paths; and inside a mount, req.path is relative.
  const route = typeof req.route?.path === 'string' ? `${req.baseUrl}${req.route.path}` : req.originalUrl.split('?')[0]!.slice(0, 512);
  return {
    kind: 'api_access',
    method: req.method,
    endpoint: route || '/',
    response_status: res.statusCode,
    response_time_ms: Math.round(performance.now() - ctx.startedAt),
    bytes_sent: Number(res.getHeader('content-length') ?? 0) || 0,
    bytes_received: claimedLength(req.get('content-length')),
    ip_address: ctx.ip,
    user_agent: ctx.userAgent,
    user_id: ctx.actor && ctx.actor.type !== 'api_key' ? ctx.actor.id : null,
    api_key_id: ctx.actor?.type === 'api_key' ? ctx.actor.id : null,
    request_headers: { 'content-type': req.get('content-type') ?? null, 'x-request-id': ctx.requestId },
  };
}

/**
 * The body size a request claims, for its api_access event. The client chooses
 * it, and Node's parser takes any 64-bit length: one beyond 2^53 would fail the
 * event's schema, and the request would go unrecorded. It is kept at 2^53 − 1.
 */
function claimedLength(header: string | undefined): number {
  const length = Number(header ?? 0);
  if (!(length > 0)) return 0;
  return Math.min(length, Number.MAX_SAFE_INTEGER);
}

/** The 503 that replaces a response whose events could not be recorded, in the error handler's shape. */
function unrecorded(res: Response): [string] {
  const body = JSON.stringify({ error: { code: 'UNAVAILABLE', error_code: ERROR_CATALOG.UNAVAILABLE.code, message: UNRECORDABLE } });
  for (const name of res.getHeaderNames()) if (name !== 'x-request-id') res.removeHeader(name);
  res.statusCode = 503;
  res.setHeader('Retry-After', '5');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  return [body];
}
