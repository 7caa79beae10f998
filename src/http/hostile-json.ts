import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { AppError } from '../lib/errors/app-error';
import { hostileJsonProblem } from '../lib/hostile-json-value';
import { JsonBodySource, keepJsonBody } from './json-source';

/** After express.json: one 400 (a validation failure, with the field path) for a body no route can store, before any schema or database sees it. */
export function refuseHostileJson(): RequestHandler {
  return (req, _res, next) => {
    const problem = hostileJsonProblem(req.body, { lossyNumber: () => new JsonBodySource(req).whole() });
    if (problem) {
      const path = problem.path.slice(0, 200);
      throw new AppError('VALIDATION_FAILED', path ? `${path}: ${problem.message}` : `the body ${problem.message}`, { details: [{ path, message: problem.message }] });
    }
    next();
  };
}

/** Whether body-parser decodes the body as UTF-8 (its default when no charset is declared). */
export function isUtf8Charset(encoding: string | null): boolean {
  return encoding !== null && /^utf-?8$/i.test(encoding);
}

/**
 * body-parser's `verify` for JSON bodies: bytes that are not UTF-8 in a
 * UTF-8 body are a 400. Decoded, each would become U+FFFD, and the event
 * stored as something its sender never sent. The bytes are kept for the
 * request (keepJsonBody): only they tell a lossy integer from an exact one.
 */
export function verifyJsonBody(req: IncomingMessage, _res: ServerResponse, body: Buffer, encoding: string | null): void {
  if (isUtf8Charset(encoding) && !isUtf8(body)) throw new AppError('BAD_REQUEST', NOT_UTF8);
  keepJsonBody(req, body, encoding);
}

export const NOT_UTF8 = 'the body is not valid UTF-8 (declare its charset if it is in another one)';
