import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EVENT_TYPE_PATTERN } from './event-catalog';
import { timestamp, UUID_PATTERN, uuid } from './fields';
import { requiredMessage } from './zod-config';

/** Fields every event may carry besides its kind's own; `id`, `created_at` and `timestamp` are the seeds' names for them. */
const ENVELOPE_ALIASES = { id: 'event_id', created_at: 'occurred_at', timestamp: 'occurred_at' } as const;

export interface EventKindOptions<F extends z.ZodRawShape> {
  /** ClickHouse table the kind is stored in. */
  table: string;
  /**
   * `required`: the client must send `event_type`. Otherwise the kind has no
   * event type of its own in the seeds and one is derived for the stored row.
   */
  eventType: 'required' | ((event: z.output<z.ZodObject<F>>) => string | null | undefined);
  /** Seed synonyms: `alias → canonical field`. The alias is accepted and stored under the canonical name. */
  aliases?: Record<string, keyof F & string>;
  /**
   * Fields whose value follows from the event type when the client leaves
   * them out (or sends null): auth's `event_status`. The stored row carries
   * the filled value. Default: none.
   */
  fromEventType?: (eventType: string) => Partial<z.output<z.ZodObject<F>>>;
}

/** What every parsed event has, whatever its kind. */
export interface EventEnvelope<K extends string> {
  kind: K;
  event_type: string;
  event_id: string;
  occurred_at: Date;
  /** True when the client chose `event_id`, so it is an idempotency key. */
  client_event_id: boolean;
}

const NOT_A_UUID_ID = "is the row's own id, which serves as event_id only if it is a UUID: send a UUID event_id, or leave id out";

const eventTypeField = z.string().regex(EVENT_TYPE_PATTERN, 'must be 1-100 letters, digits, or _ . : - (starting with a letter or digit)');

/**
 * Builds the schema of one event kind: the envelope plus the kind's seed
 * fields, strict (an unknown field is an error, not silently dropped), with
 * seed synonyms folded into one stored name.
 */
export function defineEventKind<K extends string, F extends z.ZodRawShape>(kind: K, fields: F, options: EventKindOptions<F>) {
  const aliases = options.aliases ?? {};
  const aliasShape: Record<string, z.ZodType> = {};
  for (const [alias, target] of Object.entries(aliases)) aliasShape[alias] = (fields[target] as z.ZodType).optional();

  const envelope = z
    .object({
      kind: z.literal(kind),
      event_type: eventTypeField.optional(),
      event_id: uuid().optional(),
      // Checked here only when it was not folded onto event_id: then it is no UUID (a serial id, as auth_audit_log's; docs/data-model.md).
      id: z.string({ error: NOT_A_UUID_ID }).regex(UUID_PATTERN, NOT_A_UUID_ID).optional(),
      occurred_at: timestamp().optional(),
      created_at: timestamp().optional(),
      timestamp: timestamp().optional(),
      ...fields,
    })
    .strict();
  const shape = envelope.extend(aliasShape).strict();

  type Input = z.output<typeof shape>;
  type Own = z.output<z.ZodObject<F>>;
  type Event = EventEnvelope<K> & Own;
  type Completion = { event: Event } | { issue: { path: string; message: string } };
  const allAliases: Record<string, string> = { ...aliases, ...ENVELOPE_ALIASES };
  const fieldNames = Object.keys(fields);

  /**
   * Fills the envelope (event_id, occurred_at, derived event_type) once the
   * fields are valid. The event is built once, straight from zod's output.
   */
  function complete(input: Input): Completion {
    const record = input as Record<string, unknown>;
    for (const alias in allAliases) {
      if (record[alias] !== undefined) return { issue: { path: alias, message: `conflicts with "${allAliases[alias]}": send one of them` } };
    }
    const eventId = (record.event_id ?? record.id) as string | undefined;
    const occurredAt = (record.occurred_at ?? record.created_at ?? record.timestamp) as Date | undefined;
    let eventType = record.event_type as string | undefined;
    if (!eventType && options.eventType !== 'required') {
      eventType = options.eventType(record as Own) ?? undefined;
      // A type taken from a row's own field must still be a well-formed name, as a sent one is.
      if (eventType && !EVENT_TYPE_PATTERN.test(eventType)) {
        return { issue: { path: 'event_type', message: `is required for kind "${kind}": ${JSON.stringify(eventType)}, taken from the row, is not a valid event type` } };
      }
    }
    if (!eventType) return { issue: { path: 'event_type', message: `is required for kind "${kind}"` } };
    const event: Record<string, unknown> = {
      kind,
      event_type: eventType,
      event_id: eventId ?? randomUUID(),
      occurred_at: occurredAt ?? new Date(),
      client_event_id: eventId !== undefined,
    };
    // Only the fields sent: storing the absent ones as undefined took a wide kind (audit, security,
    // error: 17-18 fields) past V8's limit for keyed stores, into a dictionary-mode object that
    // toQueuedEvent, canonicalJson and the job's JSON then read by hash lookup.
    for (const key of fieldNames) {
      const value = record[key];
      if (value !== undefined) event[key] = value;
    }
    if (options.fromEventType) {
      const filled = options.fromEventType(eventType) as Record<string, unknown>;
      for (const key in filled) if (event[key] === undefined || event[key] === null) event[key] = filled[key];
    }
    return { event: event as Event };
  }

  const schema = z.preprocess(
    (raw) => foldAliases(raw, allAliases),
    shape.transform((input: Input, ctx): Event => {
      const done = complete(input);
      if ('event' in done) return done.event;
      ctx.addIssue({ code: 'custom', path: [done.issue.path], message: done.issue.message });
      return z.NEVER;
    }),
  );

  /**
   * The fields' rules compiled once into plain code by zod's compiler (see
   * bench/validate.micro.ts: about ten times faster than zod's runtime
   * parser on the bench's events). An event the compiled code refuses is
   * parsed again by the runtime, so every issue, path and message is zod's own.
   */
  const compiled = z.compile(shape);

  /**
   * The same rules as `schema`, on the ingest hot path: zod checks only the
   * fields and the envelope is filled by plain code, which is several times
   * faster than zod's preprocess/transform pipeline.
   */
  function parse(raw: unknown): { success: true; data: Event } | { success: false; issues: { path: PropertyKey[]; message: string; code?: string; keys?: string[] }[] } {
    const result = compiled.safeParse(foldAliases(raw, allAliases), { error: requiredMessage });
    if (!result.success) return { success: false, issues: result.error.issues as never };
    const done = complete(result.data);
    if ('event' in done) return { success: true, data: done.event };
    return { success: false, issues: [{ path: [done.issue.path], message: done.issue.message, code: 'custom' }] };
  }

  return Object.assign(schema, {
    kind,
    table: options.table,
    fieldNames: fieldNames as (keyof F & string)[],
    /** Every top-level name the kind accepts besides the envelope: its fields and their seed synonyms. */
    acceptedNames: [...fieldNames, ...Object.keys(aliases)] as readonly string[],
    /** Fields that must be present (no default, not optional): what a row must carry to be of this kind. */
    requiredNames: fieldNames.filter((name) => !(fields[name] as z.ZodType).safeParse(undefined).success) as readonly string[],
    /** The fields a producer may send, by their canonical names; its input type is what code publishes. */
    input: envelope,
    parseFast: parse,
  });
}

/**
 * Moves seed synonyms onto their canonical names before validation, so the
 * rest of the schema sees one name. Both names with different values is a
 * contradiction the client must resolve, not something to guess at.
 */
function foldAliases(raw: unknown, all: Record<string, string>): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  let any = false;
  for (const alias in all) if (alias in raw) any = true;
  if (!any) return raw;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const [alias, target] of Object.entries(all)) {
    if (!(alias in out)) continue;
    if (alias === 'id' && !isUuid(out.id)) continue; // refused by the envelope, under its own name
    if (target in out && JSON.stringify(out[target]) !== JSON.stringify(out[alias])) continue; // left for the check below
    if (!(target in out)) out[target] = out[alias];
    delete out[alias];
  }
  return out;
}

function isUuid(value: unknown): boolean {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}
