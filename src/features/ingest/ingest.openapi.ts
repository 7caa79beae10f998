import { EVENT_KINDS, EVENT_KIND_NAMES } from '../../schemas/event';
import type { ApiOperation } from '../../http/api-operation';
import { inputJsonSchema } from '../../http/api-operation';
import { MAX_EVENTS_PER_REQUEST } from './ingest.service';

const oneEvent = { oneOf: EVENT_KIND_NAMES.map((kind) => ({ title: kind, ...inputJsonSchema(EVENT_KINDS[kind].input) })) };

/** CloudEvents 1.0 as /v1/events reads it (docs/ingest-formats.md): `type` ends in `<kind>.<event_type>`, `data` holds the kind's fields. */
const cloudEvent = {
  type: 'object',
  required: ['specversion', 'id', 'source', 'type'],
  properties: {
    specversion: { const: '1.0' },
    id: { type: 'string', minLength: 1, description: 'With source, derives event_id: a resent CloudEvent is a duplicate' },
    source: { type: 'string', minLength: 1 },
    type: { type: 'string', description: 'Ends in <kind>.<event_type>, e.g. com.acme.shop.auth.login_failed' },
    time: { type: 'string', format: 'date-time', description: 'Stored as occurred_at' },
    subject: { type: 'string' },
    datacontenttype: { type: 'string', description: 'JSON only' },
    data: { type: 'object', description: "The kind's fields" },
  },
};

export const ingestOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/v1/events',
    tag: 'ingest',
    summary: `Post one event, or an array of up to ${MAX_EVENTS_PER_REQUEST}; event_id (a UUID) makes a post idempotent`,
    security: 'apiKey',
    bodyJsonSchema: { oneOf: [oneEvent, { type: 'array', minItems: 1, maxItems: MAX_EVENTS_PER_REQUEST, items: oneEvent }] },
    bodyContent: {
      'application/x-ndjson': {
        schema: { type: 'string' },
        description: `One event per line (as in application/json), up to ${MAX_EVENTS_PER_REQUEST} lines; a line without event_id gets one derived from its content`,
      },
      'application/cloudevents+json': { schema: cloudEvent, description: 'A structured-mode CloudEvent; binary mode (ce-* headers) sends data as application/json' },
      'application/cloudevents-batch+json': { schema: { type: 'array', minItems: 1, maxItems: MAX_EVENTS_PER_REQUEST, items: cloudEvent } },
    },
    responses: {
      202: 'All events accepted; each event id in the body',
      207: 'Some events invalid: per-event results; only the valid ones were queued',
      400: 'No event valid: index, field path and message for each problem',
      401: 'API key missing or wrong',
      403: 'The key lacks the ingest scope',
      409: 'An event_id reused with different content',
      413: `Body over the size limit, or more than ${MAX_EVENTS_PER_REQUEST} events`,
      415: 'Content type is not JSON, NDJSON or CloudEvents',
      429: 'The pipeline is saturated; retry after Retry-After seconds',
      503: 'Redis is unavailable; nothing was accepted; retry after Retry-After seconds',
    },
  },
  {
    method: 'post',
    path: '/v1/logs',
    tag: 'ingest',
    summary: 'OTLP/HTTP logs (ExportLogsServiceRequest, protobuf or JSON, optionally gzip): each log record becomes an event named by event_name or its event.name attribute',
    security: 'apiKey',
    bodyContent: {
      'application/x-protobuf': { schema: { type: 'string', format: 'binary' }, description: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest' },
      'application/json': { schema: { type: 'object', properties: { resourceLogs: { type: 'array' } } }, description: 'The same message in OTLP/JSON' },
    },
    responses: {
      200: 'An ExportLogsServiceResponse (protobuf or JSON, as the request); partialSuccess counts the refused records and says why',
      400: 'The body is not an ExportLogsServiceRequest, or its gzip does not inflate',
      401: 'API key missing or wrong (exporters send it as an Authorization: Bearer header)',
      403: 'The key lacks the ingest scope',
      413: `Body over the size limit (after gzip), or more than ${MAX_EVENTS_PER_REQUEST} log records`,
      415: 'Content type is neither application/x-protobuf nor application/json',
      429: 'The pipeline is saturated; retry after Retry-After seconds',
      503: 'Redis is unavailable; nothing was accepted; retry after Retry-After seconds',
    },
  },
];
