import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../lib/logger';

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

/** The level of a request's line: failures are errors, the client's mistakes warnings. */
function levelOf(res: Response): 'error' | 'warn' | 'info' {
  // ClickHouse answers an analyst's refused write or bad SQL with a 5xx, but it is the client's mistake, not ours.
  const clickHouseCode = res.getHeader('x-clickhouse-exception-code');
  if (clickHouseCode !== undefined && !SERVER_SIDE_CLICKHOUSE_CODES.has(Number(clickHouseCode))) return 'warn';
  return res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
}

/**
 * One JSON line per request when it is answered (or its client went away),
 * carrying the request id that requestContext chose: what pino-http wrote,
 * without its two child loggers and three listeners per request, and with
 * nothing built for a line the level drops (at LOG_LEVEL=warn, every
 * successful ingest post). Headers are not logged at all, so no credential
 * can be; the logger's redaction is the second line of defence.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (!NOT_LOGGED.test(req.path)) {
      // Mounted at the root, so this is the whole URL the client sent.
      const { method, originalUrl } = req;
      res.once('close', () => {
        const level = levelOf(res);
        if (!logger.isLevelEnabled(level)) return;
        const ctx = res.locals.ctx;
        logger[level](
          {
            requestId: ctx.requestId,
            req: { method, url: loggableUrl(originalUrl) },
            res: { statusCode: res.statusCode },
            responseTime: Math.round(performance.now() - ctx.startedAt),
            ...outcome(req, res),
          },
          res.statusCode >= 500 ? 'request failed' : 'request completed',
        );
      });
    }
    next();
  };
}
