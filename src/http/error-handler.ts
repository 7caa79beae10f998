import type { ErrorRequestHandler } from 'express';
import { AppError, ERROR_STATUS, type ErrorCode } from '../lib/errors/app-error';
import { ERROR_CATALOG } from '../lib/errors/error-catalog';
import type { Logger } from '../lib/logger';
import { isPgUnavailable, pgUnavailableError } from '../lib/pg';
import type { EventPublisher } from '../queues/event-publisher';

/** body-parser's error types, as the client should see them. */
function fromBodyParser(error: { type?: string; message?: string; limit?: number; status?: unknown; statusCode?: unknown }): AppError | null {
  switch (error.type) {
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', `the body is larger than the ${error.limit ?? ''} byte limit`.replace('  ', ' '));
    case 'entity.parse.failed':
      return new AppError('BAD_REQUEST', 'the body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', error.message ?? 'unsupported encoding');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new AppError('BAD_REQUEST', error.message ?? 'bad request body');
    default:
      return fromClientStatus(error);
  }
}

/**
 * Any other error that already says it is the client's (a 4xx status, as
 * http-errors and the router set them): a path parameter with a bad
 * %-escape, a body whose Content-Encoding lies. A 400 that is logged as a
 * validation error, not a critical 500 with a stack trace.
 */
function fromClientStatus(error: { status?: unknown; statusCode?: unknown; message?: unknown }): AppError | null {
  const status = typeof error.status === 'number' ? error.status : error.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return null;
  if (error instanceof URIError) return new AppError('BAD_REQUEST', 'the URL holds a malformed %-escape');
  if (status === 400) return new AppError('BAD_REQUEST', 'the body could not be read (does its Content-Encoding match it?)');
  // Another 4xx keeps its status where one of our codes has it; the message is http-errors' own (public for 4xx).
  const code = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((c) => ERROR_STATUS[c] === status) ?? 'BAD_REQUEST';
  return new AppError(code, typeof error.message === 'string' && error.message ? error.message.slice(0, 200) : 'bad request');
}

/**
 * The one error handler: AppErrors become their status and code; anything
 * else is a logged 500. Validation failures and 5xx are also recorded as
 * `error` events, with a TODOAPP code and the user-safe message kept apart
 * from the technical details.
 */
export function errorHandler(logger: Logger, events?: EventPublisher): ErrorRequestHandler {
  // While PostgreSQL is down every request fails the same way: one warning and one error event per
  // interval, not one per request (an outage must not become a storm of error_logs rows).
  let pgDownSince = -Infinity;
  return (error, req, res, _next) => {
    const pgDown = !(error instanceof AppError) && isPgUnavailable(error);
    const appError = error instanceof AppError ? error : pgDown ? pgUnavailableError(error) : fromBodyParser(error);
    // Monotonic, so a wall clock stepped back does not silence an outage for the size of the step.
    const quiet = pgDown && performance.now() - pgDownSince < 10_000;
    if (pgDown && !quiet) pgDownSince = performance.now();
    // The request's id, as its request line carries it; nothing is built for the 4xx that log nothing.
    const requestId = res.locals.ctx?.requestId;
    if (!appError) {
      logger.error({ requestId, err: error, method: req.method, path: req.path }, 'unhandled error');
    } else if (appError.status >= 500 && !quiet) {
      logger.warn({ requestId, err: appError.cause ?? appError, path: req.path }, appError.message);
    }
    const e = appError ?? new AppError('INTERNAL', 'internal error');
    const catalog = ERROR_CATALOG[e.code];
    const ctx = res.locals.ctx;
    if (events && !quiet && (e.status >= 500 || catalog.errorType === 'validation') && e.code !== 'NOT_FOUND') {
      const cause = appError ? appError.cause : error;
      events.publish(
        {
          kind: 'error',
          error_code: catalog.code,
          error_type: catalog.errorType,
          severity_level: catalog.severity,
          error_message: e.message.slice(0, 500),
          technical_details: {
            app_error: e.code,
            ...(e.details === undefined ? {} : { details: e.details }),
            ...(cause instanceof Error ? { exception: cause.name, cause: cause.message.slice(0, 2000), stack: cause.stack?.slice(0, 4000) } : {}),
            request_id: ctx?.requestId,
          },
          operation_type: `${req.method} ${req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : req.path}`.slice(0, 64),
          user_context: ctx?.actor && ctx.actor.type !== 'api_key' ? ctx.actor.id : null,
          request_path: req.path.slice(0, 2048),
          http_status_code: e.status,
        },
        // Neither a refused request (4xx) nor a failed one (5xx) acknowledged anything (see requestContext).
        { bestEffort: true },
      );
    }
    if (e.retryAfterSeconds !== undefined) res.set('Retry-After', String(e.retryAfterSeconds));
    if (res.headersSent) return;
    res.status(e.status).json({
      error: { code: e.code, error_code: catalog.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) },
    });
  };
}
