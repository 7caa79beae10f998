import { derivedUuid } from '../../../domain/derived-id';
import type { EventIssue } from '../../../schemas/event';
import type { CheckCount, DecodedEvent } from './decoded-event';
import { kindAndTypeOf, withExtras } from './event-name';

/** The CloudEvents attributes this mapping reads; extensions are ignored. */
interface CloudEventAttributes {
  specversion?: unknown;
  id?: unknown;
  source?: unknown;
  type?: unknown;
  time?: unknown;
  subject?: unknown;
  datacontenttype?: unknown;
}

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * CloudEvents 1.0 → auditflow envelopes (HTTP binding: structured, batch and
 * binary mode). `type` ends in `<kind>.<event_type>`; `data` holds the kind's
 * fields; `time` is `occurred_at`; `source` and `subject` go to the kind's
 * JSON column under `cloudevents`. CloudEvent ids are unique per source
 * only, so event_id is derived from both: a resent CloudEvent is the same event.
 */
export function fromStructuredCloudEvents(body: unknown, batch: boolean, checkCount: CheckCount): DecodedEvent[] | string {
  if (batch) {
    if (!Array.isArray(body)) return 'a CloudEvents batch (application/cloudevents-batch+json) must be a JSON array of events';
    checkCount(body.length);
    return body.map((event) => (isObject(event) ? fromCloudEvent(event, event.data, event) : { issues: [{ path: '', message: 'a CloudEvent must be a JSON object' }] }));
  }
  if (!isObject(body)) return 'a structured CloudEvent (application/cloudevents+json) must be a JSON object';
  return [fromCloudEvent(body, body.data, body)];
}

/** Binary mode: the attributes are `ce-*` headers (percent-encoded), the body is `data`. */
export function fromBinaryCloudEvent(headers: Record<string, string | string[] | undefined>, contentType: string | undefined, body: unknown): DecodedEvent[] {
  const header = (name: string): string | undefined => {
    const value = headers[`ce-${name}`];
    const one = Array.isArray(value) ? value[0] : value;
    if (one === undefined) return undefined;
    try {
      return decodeURIComponent(one);
    } catch {
      return one;
    }
  };
  const attributes: CloudEventAttributes = {
    specversion: header('specversion'),
    id: header('id'),
    source: header('source'),
    type: header('type'),
    time: header('time'),
    subject: header('subject'),
    datacontenttype: contentType,
  };
  return [fromCloudEvent(attributes, body, {})];
}

function fromCloudEvent(attributes: CloudEventAttributes, data: unknown, structured: Record<string, unknown>): DecodedEvent {
  const issues: EventIssue[] = [];
  if (attributes.specversion !== '1.0') issues.push({ path: 'specversion', message: `must be "1.0"${attributes.specversion === undefined ? '' : ` (got ${JSON.stringify(attributes.specversion)})`}` });
  for (const name of ['id', 'source', 'type'] as const) {
    const value = attributes[name];
    if (typeof value !== 'string' || value.length === 0) issues.push({ path: name, message: value === undefined ? 'is required' : 'must be a non-empty string' });
  }
  if (attributes.subject !== undefined && typeof attributes.subject !== 'string') issues.push({ path: 'subject', message: 'must be a string' });
  if (attributes.time !== undefined && typeof attributes.time !== 'string') issues.push({ path: 'time', message: 'must be an RFC 3339 timestamp' });
  if (typeof attributes.datacontenttype === 'string' && !JSON_CONTENT_TYPE.test(attributes.datacontenttype)) {
    issues.push({ path: 'datacontenttype', message: `must be JSON (got ${JSON.stringify(attributes.datacontenttype)})` });
  }
  if (structured.data_base64 !== undefined) issues.push({ path: 'data_base64', message: 'is not accepted: send the fields as JSON in data' });
  if (data !== undefined && data !== null && !isObject(data)) issues.push({ path: 'data', message: "must be a JSON object holding the kind's fields" });
  if (issues.length > 0) return { issues };

  const type = attributes.type as string;
  const named = kindAndTypeOf(type);
  if (!named || named.event_type === '') {
    return { issues: [{ path: 'type', message: `must end in <kind>.<event_type>, e.g. com.example.auth.login_failed (got ${JSON.stringify(type.slice(0, 200))})` }] };
  }
  const source = attributes.source as string;
  let raw: Record<string, unknown> = {
    ...((data as Record<string, unknown> | undefined) ?? {}),
    kind: named.kind,
    event_type: named.event_type,
    event_id: derivedUuid(`cloudevents\n${source}\n${attributes.id as string}`),
  };
  if (attributes.time !== undefined) raw.occurred_at = attributes.time;
  raw = withExtras(raw, named.kind, 'cloudevents', { source, ...(attributes.subject === undefined ? {} : { subject: attributes.subject }) });
  return { raw };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
