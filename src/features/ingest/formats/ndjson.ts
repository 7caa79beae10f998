import { isUtf8 } from 'node:buffer';
import { canonicalJson } from '../../../domain/canonical-json';
import { derivedUuid } from '../../../domain/derived-id';
import { lossyNumberIn } from '../../../http/json-source';
import type { CheckCount, DecodedEvent } from './decoded-event';

const NONE: ReadonlySet<number> = new Set();

/**
 * NDJSON (`application/x-ndjson`) → one envelope per non-empty line, as
 * Vector's and Fluent Bit's HTTP outputs send them. Shippers resend a whole
 * batch when a request fails, so a line without `event_id` (or a seed `id`)
 * gets one derived from its content: the same line posted again is the same event.
 */
export function fromNdjson(text: string, checkCount: CheckCount, linesNotUtf8: ReadonlySet<number> = NONE): DecodedEvent[] {
  const lines = text
    .split('\n')
    .map((line, i) => ({ trimmed: line.trim(), number: i + 1 }))
    .filter((l) => l.trimmed !== '');
  checkCount(lines.length);
  const out: DecodedEvent[] = [];
  lines.forEach(({ trimmed, number }) => {
    if (linesNotUtf8.has(number)) {
      out.push({ issues: [{ path: '', message: `line ${number} is not valid UTF-8` }] });
      return;
    }
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
    out.push({
      raw: record.event_id === undefined && record.id === undefined ? { ...record, event_id: derivedUuid(`ndjson\n${canonicalJson(record)}`) } : record,
      lossyNumber: () => lossyNumberIn(trimmed),
    });
  });
  return out;
}

/**
 * The numbers (from 1, as fromNdjson counts them) of the lines of a body that
 * are not valid UTF-8: decoded, their bytes would become U+FFFD, so those
 * lines are refused and the rest of the batch is taken.
 */
export function linesNotUtf8(body: Buffer): Set<number> {
  const bad = new Set<number>();
  for (let start = 0, line = 1; start <= body.length; line++) {
    const newline = body.indexOf(0x0a, start);
    const end = newline === -1 ? body.length : newline;
    if (!isUtf8(body.subarray(start, end))) bad.add(line);
    start = end + 1;
  }
  return bad;
}
