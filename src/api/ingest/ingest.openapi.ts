import { EVENT_KINDS, EVENT_KIND_NAMES } from '../../schemas/event';
import type { ApiOperation } from '../openapi/api-operation';
import { inputJsonSchema } from '../openapi/openapi-document';
import { MAX_EVENTS_PER_REQUEST } from './ingest.service';

const oneEvent = { oneOf: EVENT_KIND_NAMES.map((kind) => ({ title: kind, ...inputJsonSchema(EVENT_KINDS[kind].input) })) };

export const ingestOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/v1/events',
    tag: 'ingest',
    summary: `Post one event, or an array of up to ${MAX_EVENTS_PER_REQUEST}; event_id (a UUID) makes a post idempotent`,
    security: 'apiKey',
    bodyJsonSchema: { oneOf: [oneEvent, { type: 'array', minItems: 1, maxItems: MAX_EVENTS_PER_REQUEST, items: oneEvent }] },
    responses: {
      202: 'All events accepted; each event id in the body',
      207: 'Some events invalid: per-event results; only the valid ones were queued',
      400: 'No event valid: index, field path and message for each problem',
      401: 'API key missing or wrong',
      403: 'The key lacks the ingest scope',
      409: 'An event_id reused with different content',
      413: `Body over the size limit, or more than ${MAX_EVENTS_PER_REQUEST} events`,
      415: 'Content type is not JSON',
      429: 'The pipeline is saturated; retry after Retry-After seconds',
      503: 'Redis is unavailable; nothing was accepted; retry after Retry-After seconds',
    },
  },
];
