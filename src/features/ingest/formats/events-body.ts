import type { Request } from 'express';
import { AppError } from '../../../lib/errors/app-error';
import { fromBinaryCloudEvent, fromStructuredCloudEvents } from './cloudevents';
import type { CheckCount, DecodedEvent } from './decoded-event';
import { fromNdjson } from './ndjson';

/** The content types `POST /v1/events` reads; anything else is a 415. */
export const NDJSON_TYPE = 'application/x-ndjson';
export const EVENTS_JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * The parsed body of `POST /v1/events` as envelopes, by its format:
 * NDJSON, a CloudEvents batch, a structured CloudEvent, a binary-mode
 * CloudEvent (`ce-specversion` header), or auditflow's own JSON.
 * `linesNotUtf8`: the NDJSON lines the parser found not to be UTF-8.
 */
export function decodeEventsBody(req: Request, checkCount: CheckCount, linesNotUtf8?: ReadonlySet<number>): DecodedEvent[] {
  if (req.is(NDJSON_TYPE)) return fromNdjson(typeof req.body === 'string' ? req.body : '', checkCount, linesNotUtf8);
  const batch = req.is('application/cloudevents-batch+json') !== false;
  if (batch || req.is('application/cloudevents+json')) {
    const decoded = fromStructuredCloudEvents(req.body, batch, checkCount);
    if (typeof decoded === 'string') throw new AppError('BAD_REQUEST', decoded);
    return decoded;
  }
  if (req.get('ce-specversion') !== undefined) return fromBinaryCloudEvent(req.headers, req.get('content-type'), req.body);
  const body: unknown = req.body;
  return (Array.isArray(body) ? body : [body]).map((raw) => ({ raw }));
}
