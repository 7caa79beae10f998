import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import { serializeError, type Logger } from '../../lib/logger';

/** Probes and scrapes: a line each would bury the requests worth reading. */
const NOT_LOGGED = /^\/(healthz|metrics)\/?$/;

/** Query parameters that may carry a credential (ClickHouse's HTTP interface takes `password`). */
const SECRET_PARAM = /pass|key|token|secret|auth|sig/i;

/** The URL with the values of credential-like query parameters replaced. */
export function loggableUrl(url: string): string {
  const question = url.indexOf('?');
  if (question === -1) return url.slice(0, 2048);
  const params = new URLSearchParams(url.slice(question + 1));
  for (const name of new Set(params.keys())) if (SECRET_PARAM.test(name)) params.set(name, '[redacted]');
  return `${url.slice(0, question)}?${params.toString()}`.slice(0, 2048);
}

/** ClickHouse codes that mean our failure rather than the analyst's mistake (UNKNOWN_EXCEPTION). */
const SERVER_SIDE_CLICKHOUSE_CODES = new Set([1002]);

/** What is known about a request once it has been answered. */
function outcome(req: Request, res: Response): Record<string, unknown> {
  const ctx = res.locals.ctx;
  return {
    ip: ctx.ip,
    // The route pattern, when one matched: ids stay out of it. (A mounted app's route may have several paths.)
    ...(typeof req.route?.path === 'string' ? { route: `${req.baseUrl}${req.route.path}` } : {}),
    ...(ctx.actor ? { actor: { type: ctx.actor.type, id: ctx.actor.id } } : {}),
  };
}

/**
 * One JSON line per request (pino-http) when it is answered, carrying the
 * request id that requestContext chose; `req.log` is that request's child
 * logger. Headers are not logged at all, so no credential can be; the
 * logger's redaction is the second line of defence.
 */
export function requestLog(logger: Logger): RequestHandler {
  // Built on the first request: building the app touches none of its dependencies.
  let middleware: RequestHandler | undefined;
  return (req, res, next) => {
    middleware ??= pinoHttp<Request, Response>({
      logger,
      genReqId: (_req, res) => res.locals.ctx.requestId,
      customAttributeKeys: { reqId: 'requestId' },
      // req.log carries only the request id; the completion line carries the request too.
      quietReqLogger: true,
      autoLogging: { ignore: (req) => NOT_LOGGED.test(req.path) },
      customLogLevel: (_req, res, error) => {
        if (error) return 'error';
        // ClickHouse answers an analyst's refused write or bad SQL with a 5xx, but it is the client's mistake, not ours.
        if (res.getHeader('x-clickhouse-exception-code') !== undefined && !SERVER_SIDE_CLICKHOUSE_CODES.has(Number(res.getHeader('x-clickhouse-exception-code')))) return 'warn';
        return res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      },
      serializers: {
        // pino-http would put pino's own back on req.log, Redis command arguments and all.
        err: serializeError,
        req: (req: { method: string; url: string }) => ({ method: req.method, url: loggableUrl(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customSuccessObject: (req, res, value: Record<string, unknown>) => ({ ...value, ...outcome(req, res) }),
      // The error handler has already logged the cause; pino-http's own error would only say "status 500".
      customErrorObject: (req, res, _error, { err: _err, ...value }: Record<string, unknown>) => ({ ...value, ...outcome(req, res) }),
      customErrorMessage: () => 'request failed',
    });
    middleware(req, res, next);
  };
}
