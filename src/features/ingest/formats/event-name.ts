import { EVENT_KINDS, isEventKind, type EventKind } from '../../../schemas/event';

/**
 * Reads `<kind>.<event_type>` at the end of a dotted name, as CloudEvents
 * types (`com.acme.shop.auth.login_failed`) and OTLP event names carry it.
 * The rightmost segment naming a kind wins, so a reverse-DNS prefix is
 * ignored and an event type may itself hold dots (`audit.todo.created`).
 */
export function kindAndTypeOf(name: string): { kind: EventKind; event_type: string } | null {
  const parts = name.split('.');
  for (let i = parts.length - 2; i >= 0; i--) {
    if (isEventKind(parts[i])) return { kind: parts[i] as EventKind, event_type: parts.slice(i + 1).join('.') };
  }
  return null;
}

/**
 * The JSON column of each kind where facts of the sending format that have
 * no column of their own are kept (CloudEvents source/subject, OTLP
 * service.name and unmapped attributes). Kinds without one keep none.
 */
const EXTRAS_FIELD: Partial<Record<EventKind, string>> = {
  audit: 'metadata',
  security: 'metadata',
  failed_login: 'metadata',
  auth: 'details',
  error: 'technical_details',
};

/** Adds `extras` under `key` in the kind's JSON column; leaves a column the client filled with a non-object alone. */
export function withExtras(raw: Record<string, unknown>, kind: EventKind, key: string, extras: Record<string, unknown>): Record<string, unknown> {
  const field = EXTRAS_FIELD[kind];
  if (!field || Object.keys(extras).length === 0) return raw;
  const current = raw[field];
  if (current === undefined || current === null) return { ...raw, [field]: { [key]: extras } };
  if (typeof current === 'object' && !Array.isArray(current)) return { ...raw, [field]: { ...(current as object), [key]: extras } };
  return raw;
}

/** Whether the kind accepts a top-level field of that name (its own fields and their seed synonyms). */
export function acceptsField(kind: EventKind, name: string): boolean {
  return EVENT_KINDS[kind].acceptedNames.includes(name);
}
