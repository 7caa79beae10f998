import type { ErrorRequestHandler } from 'express';
import { AppError } from '../lib/app-error';
import type { Logger } from '../lib/logger';

/** body-parser's error types, as the client should see them. */
function fromBodyParser(error: { type?: string; message?: string; limit?: number }): AppError | null {
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
      return null;
  }
}

/** The one error handler: AppErrors become their status and code; anything else is a logged 500. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = error instanceof AppError ? error : fromBodyParser(error);
    if (!appError) {
      logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
    } else if (appError.status >= 500) {
      logger.warn({ err: appError.cause ?? appError, path: req.path }, appError.message);
    }
    const e = appError ?? new AppError('INTERNAL', 'internal error');
    if (e.retryAfterSeconds !== undefined) res.set('Retry-After', String(e.retryAfterSeconds));
    if (res.headersSent) return;
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) } });
  };
}
