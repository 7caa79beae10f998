import { UUID_PATTERN } from '../../schemas/fields';
import type { TimelineEvent, TimelinePosition } from './user-timeline.repository';

/** An opaque token for the next timeline page: the last event's time and id, and the order. It carries no secret. */
export function encodeTimelineCursor(event: Pick<TimelineEvent, 'occurred_at' | 'event_id'>, order: 'asc' | 'desc'): string {
  return Buffer.from(JSON.stringify({ o: order, t: event.occurred_at, id: event.event_id })).toString('base64url');
}

/** The position in `token`, or null when it is not one this API issued for that order. */
export function decodeTimelineCursor(token: string, order: 'asc' | 'desc'): TimelinePosition | null {
  try {
    const raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    const at = typeof raw.t === 'string' ? new Date(raw.t) : null;
    if (raw.o !== order || !at || Number.isNaN(at.getTime()) || typeof raw.id !== 'string' || !UUID_PATTERN.test(raw.id)) return null;
    return { occurredAt: at, eventId: raw.id };
  } catch {
    return null;
  }
}
