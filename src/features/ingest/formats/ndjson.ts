import { canonicalJson } from '../../../domain/canonical-json';
import { derivedUuid } from '../../../domain/derived-id';
import type { CheckCount, DecodedEvent } from './decoded-event';

/**
 * NDJSON (`application/x-ndjson`) → one envelope per non-empty line, as
 * Vector's and Fluent Bit's HTTP outputs send them. Shippers resend a whole
 * batch when a request fails, so a line without `event_id` (or a seed `id`)
 * gets one derived from its content: the same line posted again is the same event.
 */
export function fromNdjson(text: string, checkCount: CheckCount): DecodedEvent[] {
  const lines = text
    .split('\n')
    .map((line, i) => ({ trimmed: line.trim(), number: i + 1 }))
    .filter((l) => l.trimmed !== '');
  checkCount(lines.length);
  const out: DecodedEvent[] = [];
  lines.forEach(({ trimmed, number }) => {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      out.push({ issues: [{ path: '', message: `line ${number} is not valid JSON` }] });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.push({ issues: [{ path: '', message: `line ${number} is not a JSON object` }] });
      return;
    }
    const record = value as Record<string, unknown>;
    out.push({ raw: record.event_id === undefined && record.id === undefined ? { ...record, event_id: derivedUuid(`ndjson\n${canonicalJson(record)}`) } : record });
  });
  return out;
}
