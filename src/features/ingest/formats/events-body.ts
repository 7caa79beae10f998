import type { Request } from 'express';
import { JsonBodySource } from '../../../http/json-source';
import type { LossyNumberCheck } from '../../../lib/hostile-json-value';
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
 * Each envelope of a JSON body can read its part of the body's text
 * (JsonBodySource): the body's n-th element is the n-th event.
 */
export function decodeEventsBody(req: Request, checkCount: CheckCount, linesNotUtf8?: ReadonlySet<number>): DecodedEvent[] {
  if (req.is(NDJSON_TYPE)) return fromNdjson(typeof req.body === 'string' ? req.body : '', checkCount, linesNotUtf8);
  const source = new JsonBodySource(req);
  const batch = req.is('application/cloudevents-batch+json') !== false;
  if (batch || req.is('application/cloudevents+json')) {
    const decoded = fromStructuredCloudEvents(req.body, batch, checkCount);
    if (typeof decoded === 'string') throw new AppError('BAD_REQUEST', decoded);
    return decoded.map((event, i) => withSource(event, batch ? source.element(i) : source.whole));
  }
  if (req.get('ce-specversion') !== undefined) return fromBinaryCloudEvent(req.headers, req.get('content-type'), req.body).map((event) => withSource(event, source.whole));
  const body: unknown = req.body;
  return Array.isArray(body) ? body.map((raw, i) => ({ raw, lossyNumber: source.element(i) })) : [{ raw: body, lossyNumber: source.whole }];
}

function withSource(event: DecodedEvent, lossyNumber: LossyNumberCheck): DecodedEvent {
  return 'raw' in event ? { ...event, lossyNumber } : event;
}
