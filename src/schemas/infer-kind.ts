import { AUTH_EVENT_TYPES, EVENT_CATALOG, SECURITY_EVENT_TYPES } from './event-catalog';

/** What the inference needs to know of one kind. */
export interface KindShape {
  /** Every top-level name the kind accepts besides the envelope (fields and seed synonyms). */
  acceptedNames: readonly string[];
  /** Fields the kind cannot do without. */
  requiredNames: readonly string[];
}

/** Names every kind accepts, which therefore say nothing about the kind. */
const ENVELOPE = new Set(['kind', 'event_type', 'event_id', 'id', 'occurred_at', 'created_at', 'timestamp']);

/** The kind an event type belongs to when the row's fields leave the choice open. */
const KIND_OF_TYPE: ReadonlyMap<string, string> = new Map([
  ...Object.keys(EVENT_CATALOG).flatMap((category) =>
    Object.keys(EVENT_CATALOG[category as keyof typeof EVENT_CATALOG]).map((type) => [type, category === 'authentication' ? 'auth' : 'audit'] as const),
  ),
  ...AUTH_EVENT_TYPES.map((type) => [type, 'auth'] as const),
  ...SECURITY_EVENT_TYPES.map((type) => [type.toLowerCase(), 'security'] as const),
]);

export type KindInference<K extends string> = { kind: K } | { message: string };

/**
 * The kind of a row sent without one, as the seeds' apps send them, when
 * only one kind fits:
 * 1. the kinds that accept every field the row has that some kind knows;
 * 2. if several, those whose required fields the row has;
 * 3. if still several, the kind of the row's catalogued event type
 *    (`login` → auth, `user_created` → audit, `UNAUTHORIZED_ACCESS` → security).
 * Otherwise the client must say; the message tells it which kinds fit.
 */
export function inferKind<K extends string>(raw: Record<string, unknown>, kinds: Readonly<Record<K, KindShape>>): KindInference<K> {
  const names = Object.keys(kinds) as K[];
  const known = Object.keys(raw).filter((field) => !ENVELOPE.has(field) && names.some((k) => kinds[k].acceptedNames.includes(field)));
  const fitting = names.filter((k) => known.every((field) => kinds[k].acceptedNames.includes(field)));
  if (fitting.length === 1) return { kind: fitting[0]! };
  if (fitting.length === 0) return { message: `is required: no kind has all of the fields ${known.join(', ')}` };

  const complete = fitting.filter((k) => kinds[k].requiredNames.every((field) => raw[field] !== undefined && raw[field] !== null));
  if (complete.length === 1) return { kind: complete[0]! };
  const candidates = complete.length > 0 ? complete : fitting;

  const eventType = typeof raw.event_type === 'string' ? raw.event_type.toLowerCase() : undefined;
  const typed = eventType === undefined ? undefined : (KIND_OF_TYPE.get(eventType) as K | undefined);
  if (typed !== undefined && candidates.includes(typed)) return { kind: typed };
  return { message: `is required: the row fits ${candidates.join(', ')}; send "kind"` };
}
