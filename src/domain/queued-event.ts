import type { IngestEvent } from '../schemas/event';
import { canonicalJson } from './canonical-json';
import { sha256Hex } from './sha256';
import type { QueuedEvent } from './event-row';

/** Did the client give the time, under any of its seed names? */
function clientSentTime(raw: unknown): boolean {
  const r = raw as Record<string, unknown>;
  return r.occurred_at !== undefined || r.created_at !== undefined || r.timestamp !== undefined;
}

/**
 * A validated event as it travels in a job: dates as ISO strings (every
 * date field is top-level), plus the hash of its content.
 *
 * The hash is taken over the normalised event, so the same event sent with
 * another key order, a seed alias (`id` for `event_id`) or another spelling
 * of the same instant is the same content. A time the server filled in is
 * left out of it: a repost without `occurred_at` is still the same event.
 *
 * One copy per event: the content is copied and hashed, then the server's
 * facts are added to that same object, which is what the job carries.
 */
export function toQueuedEvent(event: IngestEvent, raw: unknown): QueuedEvent {
  const source = event as unknown as Record<string, unknown>;
  const sentTime = clientSentTime(raw);
  const out: Record<string, unknown> = {};
  for (const key in source) {
    if (key === 'client_event_id' || (key === 'occurred_at' && !sentTime)) continue;
    const value = source[key];
    if (value !== undefined) out[key] = value instanceof Date ? value.toISOString() : value;
  }
  const contentHash = sha256Hex(canonicalJson(out));
  if (!sentTime) out.occurred_at = event.occurred_at.toISOString();
  out.client_event_id = event.client_event_id;
  out.content_hash = contentHash;
  return out as QueuedEvent;
}
