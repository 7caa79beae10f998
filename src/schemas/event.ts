import type { z } from 'zod';
import { apiAccessEventSchema } from './api-access.schema';
import { auditEventSchema } from './audit.schema';
import { authEventSchema } from './auth.schema';
import { errorEventSchema } from './error.schema';
import { failedLoginEventSchema } from './failed-login.schema';
import { inferKind } from './infer-kind';
import { rateLimitEventSchema } from './rate-limit.schema';
import { securityEventSchema } from './security.schema';
import { sessionEventSchema } from './session.schema';

/** Every event kind, keyed by the `kind` a client sends. */
export const EVENT_KINDS = {
  audit: auditEventSchema,
  auth: authEventSchema,
  security: securityEventSchema,
  failed_login: failedLoginEventSchema,
  error: errorEventSchema,
  api_access: apiAccessEventSchema,
  rate_limit: rateLimitEventSchema,
  session: sessionEventSchema,
} as const;

export type EventKind = keyof typeof EVENT_KINDS;
export const EVENT_KIND_NAMES = Object.keys(EVENT_KINDS) as EventKind[];

/** A validated, normalised event of any kind. */
export type IngestEvent = { [K in EventKind]: z.output<(typeof EVENT_KINDS)[K]> }[EventKind];

/** An event as a producer writes it (canonical field names), before validation fills defaults. */
export type RawEvent = { [K in EventKind]: z.input<(typeof EVENT_KINDS)[K]['input']> }[EventKind];

/** ClickHouse table per kind. */
export const EVENT_TABLES = Object.fromEntries(EVENT_KIND_NAMES.map((k) => [k, EVENT_KINDS[k].table])) as Record<EventKind, string>;

export function isEventKind(value: unknown): value is EventKind {
  return typeof value === 'string' && Object.hasOwn(EVENT_KINDS, value);
}

export interface EventIssue {
  /** Field path inside the event, e.g. `metadata.ip` or `event_type`. */
  path: string;
  message: string;
}

export type ParseResult = { ok: true; event: IngestEvent } | { ok: false; issues: EventIssue[] };

/** Validates one raw event: picks its kind's schema, then that schema's rules. */
export function parseEvent(raw: unknown): ParseResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, issues: [{ path: '', message: 'an event must be a JSON object' }] };
  }
  let kind = (raw as { kind?: unknown }).kind;
  if (kind === undefined) {
    // Seed rows come as the apps store them, without a kind: take the one kind that fits.
    const inferred = inferKind(raw as Record<string, unknown>, EVENT_KINDS);
    if ('message' in inferred) return { ok: false, issues: [{ path: 'kind', message: inferred.message }] };
    kind = inferred.kind;
    raw = { ...raw, kind };
  }
  if (!isEventKind(kind)) {
    return {
      ok: false,
      issues: [{ path: 'kind', message: `must be one of ${EVENT_KIND_NAMES.join(', ')}${kind === undefined ? '' : ` (got ${JSON.stringify(kind)})`}` }],
    };
  }
  const result = EVENT_KINDS[kind].parseFast(raw);
  if (result.success) return { ok: true, event: result.data as IngestEvent };
  return {
    ok: false,
    issues: result.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${(issue.keys ?? []).join(', ')}` : issue.message,
    })),
  };
}
