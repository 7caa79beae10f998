import type { IngestEvent } from '../schemas/event';
import { canonicalJson, sha256Hex } from './canonical-json';
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
 */
export function toQueuedEvent(event: IngestEvent, raw: unknown): QueuedEvent {
  const out: Record<string, unknown> = {};
  for (const key in event) {
    const value = (event as unknown as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value instanceof Date ? value.toISOString() : value;
  }
  const { client_event_id: _flag, ...content } = out;
  if (!clientSentTime(raw)) delete content.occurred_at;
  out.content_hash = sha256Hex(canonicalJson(content));
  return out as QueuedEvent;
}
