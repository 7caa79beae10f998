import { isUtf8 } from 'node:buffer';
import { canonicalJson } from '../../../domain/canonical-json';
import { derivedUuid } from '../../../domain/derived-id';
import { holdsUnsafeInteger, lossyJsonNumbers, refusalOf } from '../../../lib/lossy-json-numbers';
import { NOT_UTF8 } from '../../../http/hostile-json';
import { AppError } from '../../../lib/errors/app-error';
import type { EventKind } from '../../../schemas/event';
import type { IngestResponse } from '../ingest.service';
import type { CheckCount, DecodedEvent } from './decoded-event';
import { acceptsField, kindAndTypeOf, withExtras } from './event-name';
import { decodeExportLogsServiceRequest, ExportLogsServiceRequest, ExportLogsServiceResponse, NotUtf8StringError } from './otlp-proto';

export type OtlpFormat = 'protobuf' | 'json';

/**
 * Semantic-convention attributes and the fields they fill: the first field
 * the record's kind has wins (`url.path` is api_access's `endpoint`, error's
 * `request_path`). An attribute named like a field itself is taken as it is.
 */
const SEMANTIC_CONVENTIONS: Record<string, readonly string[]> = {
  'user.id': ['user_id', 'user_context'],
  'enduser.id': ['user_id', 'user_context'],
  'user.email': ['email_address', 'user_email'],
  'client.address': ['ip_address'],
  'source.address': ['ip_address'],
  'user_agent.original': ['user_agent'],
  'session.id': ['session_id'],
  'http.request.method': ['method'],
  'url.path': ['endpoint', 'request_path'],
  'http.route': ['endpoint', 'request_path'],
  'http.response.status_code': ['response_status', 'http_status_code'],
  'error.type': ['error_type'],
  'exception.message': ['error_message'],
};

/** SeverityNumber ERROR (17-20) and FATAL (21-24) as the error kind's levels. */
const SEVERITY_ERROR = 17;
const SEVERITY_FATAL = 21;
/** How deep an attribute value may nest; deeper parts are dropped, not recursed into. */
const MAX_VALUE_DEPTH = 16;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = Record<string, unknown>;

const NOT_UTF8_STRING_FIELD = 'a string field of the OTLP request is not valid UTF-8 (protobuf requires UTF-8 in strings; send bytes that are not text as a bytes value)';

/**
 * The int64 fields a JSON number may hold with its nanoseconds rounded: the
 * protobuf JSON mapping lets exporters send numbers, auditflow keeps the time
 * to the millisecond, and a double holds a nanosecond timestamp to within 256 ns.
 */
const STORED_TO_THE_MILLISECOND = new Set(['timeUnixNano', 'observedTimeUnixNano']);

/** Decodes an ExportLogsServiceRequest; anything that is not one is a 400. */
export function decodeOtlpLogsRequest(body: Buffer, format: OtlpFormat): Obj {
  if (!Buffer.isBuffer(body)) throw new AppError('BAD_REQUEST', 'the body is empty');
  // OTLP/JSON is UTF-8; other bytes would be stored as U+FFFD.
  if (format === 'json' && !isUtf8(body)) throw new AppError('BAD_REQUEST', NOT_UTF8);
  let text = '';
  let parsed: Obj;
  try {
    if (format === 'protobuf') {
      return ExportLogsServiceRequest.toObject(decodeExportLogsServiceRequest(body), { longs: String, bytes: String, defaults: false });
    }
    text = body.toString('utf8');
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    parsed = value as Obj;
  } catch (error) {
    if (error instanceof NotUtf8StringError) throw new AppError('BAD_REQUEST', NOT_UTF8_STRING_FIELD);
    throw new AppError('BAD_REQUEST', format === 'protobuf' ? 'the body is not an OTLP ExportLogsServiceRequest (protobuf)' : 'the body is not an OTLP ExportLogsServiceRequest (JSON)');
  }
  // An int64 sent as a JSON number (OTLP/JSON says a string) that JSON.parse altered: an intValue read as another.
  // Refused whole, as bytes that are not UTF-8 are: a resource's attribute belongs to all its records.
  const lossy = holdsUnsafeInteger(parsed) ? lossyJsonNumbers(text).find((n) => !STORED_TO_THE_MILLISECOND.has(n.path.at(-1) ?? '')) : undefined;
  if (lossy) {
    const refusal = refusalOf(lossy);
    const path = refusal.path.slice(0, 200);
    const message = refusal.message;
    throw new AppError('VALIDATION_FAILED', `${path}: ${message}`, { details: [{ path, message }] });
  }
  return parsed;
}

/**
 * Every log record of the request as an auditflow envelope. `event_name`
 * (or the `event.name` attribute) gives `<kind>.<event_type>`; a record
 * without one becomes an `error` event at severity ERROR and above and is
 * refused below it. OTLP records carry no id, so event_id is derived from
 * the record and its resource: an export sent again stores nothing twice.
 */
export function fromOtlpLogs(request: Obj, checkCount: CheckCount): DecodedEvent[] {
  const groups = arrayOf(request.resourceLogs).flatMap((resourceLogs) => arrayOf(resourceLogs.scopeLogs).map((scopeLogs) => ({ resourceLogs, scopeLogs, records: arrayOf(scopeLogs.logRecords) })));
  checkCount(groups.reduce((n, g) => n + g.records.length, 0));
  const out: DecodedEvent[] = [];
  for (const { resourceLogs, scopeLogs, records } of groups) {
    const resource = attributesOf(objectOf(resourceLogs.resource).attributes);
    const scope = objectOf(scopeLogs.scope).name;
    for (const record of records) out.push(fromLogRecord(record, resource, typeof scope === 'string' ? scope : undefined));
  }
  return out;
}

function fromLogRecord(record: Obj, resource: Record<string, Json>, scope: string | undefined): DecodedEvent {
  const attributes = attributesOf(record.attributes);
  const body = jsonOfAnyValue(record.body, 0);
  const severity = typeof record.severityNumber === 'number' ? record.severityNumber : 0;
  const severityText = typeof record.severityText === 'string' ? record.severityText : undefined;
  const name = nonEmpty(record.eventName) ?? nonEmpty(attributes['event.name']);
  const time = nanosOf(record.timeUnixNano) ?? nanosOf(record.observedTimeUnixNano);
  if (time === 'invalid') return { issues: [{ path: 'timeUnixNano', message: 'must be nanoseconds since the epoch' }] };

  let kind: EventKind;
  let raw: Obj;
  const parsedName = name === undefined ? null : kindAndTypeOf(name);
  const named = parsedName && parsedName.event_type !== '' ? parsedName : null;
  if (named) {
    kind = named.kind;
    raw = { kind, event_type: named.event_type };
  } else if (severity >= SEVERITY_ERROR) {
    // No name, or one that names no kind: an error all the same.
    kind = 'error';
    const message = (typeof body === 'string' ? body : undefined) ?? nonEmpty(attributes['exception.message']) ?? `log record of severity ${severityText ?? severity}`;
    raw = {
      kind,
      error_code: String(attributes['exception.type'] ?? attributes['error.type'] ?? severityText ?? 'ERROR').slice(0, 64) || 'ERROR',
      error_type: typeof attributes['error.type'] === 'string' ? attributes['error.type'] : 'log',
      severity_level: severity >= SEVERITY_FATAL ? 'critical' : 'high',
      error_message: message.slice(0, 500) || 'log record',
    };
  } else if (name !== undefined) {
    return {
      issues: [
        {
          path: 'event_name',
          message: `must end in <kind>.<event_type>, e.g. auth.login_failed (got ${JSON.stringify(name.slice(0, 200))}); only records of severity ERROR or above are taken without one`,
        },
      ],
    };
  } else {
    return { issues: [{ path: 'event_name', message: 'the record names no event (no event_name, no event.name attribute) and its severity is below ERROR' }] };
  }

  const unmapped: Record<string, Json> = {};
  const extras: Record<string, Json> = {};
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    for (const [key, value] of Object.entries(body)) {
      if (acceptsField(kind, key)) raw[key] = value;
      else unmapped[key] = value;
    }
  } else if (body !== null && !(kind === 'error' && raw.error_message === body)) {
    extras.body = body;
  }
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'event.name') continue;
    const target = SEMANTIC_CONVENTIONS[key]?.find((field) => acceptsField(kind, field));
    if (target !== undefined && raw[target] === undefined) raw[target] = value;
    else if (acceptsField(kind, key) || key === 'event_id') raw[key] = value;
    else unmapped[key] = value;
  }
  if (time !== undefined) raw.occurred_at = time;
  if (raw.event_id === undefined) {
    raw.event_id = derivedUuid(
      `otlp\n${canonicalJson({ resource, scope, time: exactNanos(record.timeUnixNano), observed: exactNanos(record.observedTimeUnixNano), severity, name, body, attributes })}`,
    );
  }
  const service = resource['service.name'];
  if (service !== undefined) extras.service_name = service;
  if (scope) extras.scope = scope;
  if (severityText) extras.severity_text = severityText;
  if (name !== undefined && !named) extras.event_name = name;
  const traceId = hexId(record.traceId, 16);
  const spanId = hexId(record.spanId, 8);
  if (traceId) extras.trace_id = traceId;
  if (spanId) extras.span_id = spanId;
  if (Object.keys(unmapped).length > 0) extras.attributes = unmapped;
  return { raw: withExtras(raw, kind, 'otel', extras) };
}

/** The ExportLogsServiceResponse for what the ingest service did: partial_success only when something was refused. */
export function otlpLogsResponse(result: IngestResponse | null, format: OtlpFormat): { contentType: string; body: Buffer | Obj } {
  const rejected = result?.body.rejected ?? 0;
  const messages = (result?.body.events ?? []).flatMap((e) =>
    e.status === 'rejected' ? e.errors.map((i) => `record ${e.index}: ${i.path ? `${i.path} ` : ''}${i.message}`) : e.status === 'conflict' ? [`record ${e.index}: ${e.message}`] : [],
  );
  const partialSuccess = rejected > 0 ? { rejectedLogRecords: rejected, errorMessage: messages.slice(0, 10).join('; ').slice(0, 2000) } : undefined;
  if (format === 'json') return { contentType: 'application/json', body: partialSuccess ? { partialSuccess } : {} };
  const message = ExportLogsServiceResponse.fromObject(partialSuccess ? { partialSuccess } : {});
  return { contentType: 'application/x-protobuf', body: Buffer.from(ExportLogsServiceResponse.encode(message).finish()) };
}

/** KeyValue[] → a plain object (a later duplicate key wins). */
function attributesOf(list: unknown): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const kv of arrayOf(list)) {
    if (typeof kv.key !== 'string' || kv.key === '__proto__') continue;
    out[kv.key] = jsonOfAnyValue(kv.value, 0);
  }
  return out;
}

/** AnyValue → JSON: int64 as a number when it is safe, else as its decimal string; bytes as base64. */
function jsonOfAnyValue(value: unknown, depth: number): Json {
  if (typeof value !== 'object' || value === null || depth > MAX_VALUE_DEPTH) return null;
  const v = value as Obj;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (typeof v.intValue === 'string' || typeof v.intValue === 'number') {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : String(v.intValue);
  }
  if (typeof v.doubleValue === 'number') return Number.isFinite(v.doubleValue) ? v.doubleValue : String(v.doubleValue);
  if (typeof v.bytesValue === 'string') return v.bytesValue;
  if (v.arrayValue !== undefined) return arrayOf(objectOf(v.arrayValue).values, true).map((item) => jsonOfAnyValue(item, depth + 1));
  if (v.kvlistValue !== undefined) {
    const out: Record<string, Json> = {};
    for (const kv of arrayOf(objectOf(v.kvlistValue).values)) if (typeof kv.key === 'string' && kv.key !== '__proto__') out[kv.key] = jsonOfAnyValue(kv.value, depth + 1);
    return out;
  }
  return null;
}

/** A fixed64 of nanoseconds (a decimal string or a number) → an ISO instant; 0 or absent is no time. */
function nanosOf(value: unknown): string | undefined | 'invalid' {
  if (value === undefined || value === null || value === '0' || value === 0) return undefined;
  let ms: number;
  // JSON exporters may send the int64 as a number; it has lost its nanoseconds by then, not its milliseconds (STORED_TO_THE_MILLISECOND).
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) ms = Math.floor(value / 1e6);
  else if (typeof value === 'string' && /^\d{1,20}$/.test(value)) ms = Number(BigInt(value) / 1_000_000n);
  else return 'invalid';
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? 'invalid' : date.toISOString();
}

/**
 * A trace or span id as lower-case hex, from OTLP/JSON (hex) or protobuf
 * (bytes, which protobufjs gives as base64; never of a hex id's length).
 * All zeros means none.
 */
function hexId(value: unknown, bytes: number): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const hex = value.length === bytes * 2 && /^[0-9a-f]+$/i.test(value) ? value.toLowerCase() : Buffer.from(value, 'base64').toString('hex');
  return hex.length === bytes * 2 && !/^0+$/.test(hex) ? hex : undefined;
}

/** The nanoseconds as sent, for the derived id: two records a nanosecond apart are two events. */
function exactNanos(value: unknown): string | null {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function objectOf(value: unknown): Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : {};
}

function arrayOf(value: unknown, anyItems = false): Obj[] {
  if (!Array.isArray(value)) return [];
  return anyItems ? (value as Obj[]) : value.filter((item): item is Obj => typeof item === 'object' && item !== null && !Array.isArray(item));
}
