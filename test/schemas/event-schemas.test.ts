import { CATALOG_EVENT_TYPES, EVENT_CATALOG, EVENT_CATEGORIES, isCatalogued } from '../../src/schemas/event-catalog';
import { EVENT_KINDS, EVENT_KIND_NAMES, parseEvent } from '../../src/schemas/event';
import { SEED_EVENTS } from '../fixtures/seed-events';

function issuesOf(raw: unknown) {
  const result = parseEvent(raw);
  if (result.ok) throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
  return result.issues;
}

describe('event schemas', () => {
  it('accept every seed example row', () => {
    for (const [table, raw] of Object.entries(SEED_EVENTS)) {
      const result = parseEvent(raw);
      if (!result.ok) throw new Error(`${table}: ${JSON.stringify(result.issues)}`);
    }
  });

  it('cover all eight catalog categories of seed 004, 34 event types', () => {
    expect(EVENT_CATEGORIES).toEqual(['account_lifecycle', 'status_change', 'authentication', 'profile', 'security', 'role_permission', 'data', 'bull_pen']);
    expect(CATALOG_EVENT_TYPES.size).toBe(34);
    expect(EVENT_CATALOG.security['2fa_enabled'].next).toBe('{ 2fa: true }');
  });

  it('accept every catalog event type as an audit event and mark it catalogued', () => {
    for (const type of CATALOG_EVENT_TYPES.keys()) {
      const result = parseEvent({ kind: 'audit', event_type: type, user_id: 'u1' });
      expect(result.ok).toBe(true);
      expect(isCatalogued('audit', type)).toBe(true);
    }
    expect(isCatalogued('audit', 'todo_created')).toBe(false);
  });

  it('fold seed synonyms onto one stored name', () => {
    const result = parseEvent(SEED_EVENTS.todo_app_audit_logs);
    if (!result.ok || result.event.kind !== 'audit') throw new Error('expected an audit event');
    expect(result.event.previous_value).toEqual({ title: 'Buy milk', is_completed: false });
    expect(result.event.triggered_by_type).toBe('authenticatedUser');
    expect(result.event.triggered_by_id).toBe('11111111-2222-4333-8444-555555555555');
    expect(result.event.metadata).toEqual({ device_fingerprint: 'fp-77', request: { path: '/api/todos/99' } });
    expect(result.event.event_id).toBe('3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f');
    expect(result.event.occurred_at.toISOString()).toBe('2025-05-15T12:00:00.000Z');

    const security = parseEvent(SEED_EVENTS.security_events);
    if (!security.ok || security.event.kind !== 'security') throw new Error('expected a security event');
    expect(security.event).toMatchObject({ event_type: 'BRUTE_FORCE', ip_address: '192.0.2.77', action_taken: 'IP_BLOCKED', resource_involved: '/auth/login' });
  });

  it('reject a synonym that contradicts its canonical field', () => {
    expect(issuesOf({ kind: 'audit', event_type: 'x', old_value: { a: 1 }, previous_value: { a: 2 } })).toEqual([{ path: 'old_value', message: 'conflicts with "previous_value": send one of them' }]);
  });

  it('give the field path and a message for each problem', () => {
    expect(issuesOf({ kind: 'audit' })).toEqual([{ path: 'event_type', message: 'is required for kind "audit"' }]);
    expect(issuesOf({ kind: 'nope' })[0]!.path).toBe('kind');
    expect(issuesOf([1])[0]!.message).toBe('an event must be a JSON object');
    expect(issuesOf({ kind: 'auth', event_type: 'login', ip_address: '999.1.1.1' })).toEqual([{ path: 'ip_address', message: 'must be an IPv4 or IPv6 address' }]);
    expect(issuesOf({ kind: 'security', event_type: 'X', severity_level: 'urgent' })[0]).toMatchObject({ path: 'severity_level' });
    expect(issuesOf({ kind: 'audit', event_type: 'x', surprise: 1 })).toEqual([{ path: '', message: 'unknown field(s): surprise' }]);
    expect(issuesOf({ kind: 'audit', event_type: 'x', occurred_at: 'yesterday' })[0]).toMatchObject({ path: 'occurred_at' });
    expect(issuesOf({ kind: 'audit', event_type: 'x', event_id: 'not-a-uuid' })).toEqual([{ path: 'event_id', message: 'must be a UUID' }]);
    expect(issuesOf({ kind: 'audit', event_type: 'x', metadata: 'not json' })[0]).toMatchObject({ path: 'metadata' });
    // A JSON field sent as a JSON-encoded string is parsed here, so its integers are checked here (exact ones pass).
    expect(issuesOf({ kind: 'audit', event_type: 'x', metadata: '{"order":{"id":12345678901234567890123,"n":1e20}}' })).toEqual([
      { path: 'metadata.order.id', message: 'is an integer a double cannot hold exactly (it reads as 1.2345678901234568e+22); send it as a string' },
    ]);
    // And what a body may not hold, it may not hold inside such a string either: it would be stored altered.
    expect(issuesOf({ kind: 'audit', event_type: 'x', metadata: '{"__proto__":{"p":1},"q":2}' })).toEqual([{ path: 'metadata', message: 'has a key named __proto__, which cannot be stored' }]);
    expect(issuesOf({ kind: 'audit', event_type: 'x', metadata: '{"a":{"b":"nul \\u0000 here"}}' })).toEqual([{ path: 'metadata.a.b', message: 'holds a NUL character (\\u0000)' }]);
    expect(issuesOf({ kind: 'audit', event_type: 'x', metadata: '{"a":"\\ud800"}' })).toEqual([{ path: 'metadata.a', message: 'holds a lone UTF-16 surrogate (not valid Unicode)' }]);
    expect(issuesOf({ kind: 'audit', event_type: 'x', metadata: `${'{"a":'.repeat(70)}1${'}'.repeat(70)}` })[0]).toMatchObject({ message: 'is nested deeper than 64 levels' });
    expect(parseEvent({ kind: 'audit', event_type: 'x', metadata: '{"order":{"id":9007199254740992,"n":1e20,"f":1.5}}' })).toMatchObject({
      ok: true,
      event: { metadata: { order: { id: 9007199254740992, n: 1e20, f: 1.5 } } },
    });
    expect(issuesOf({ kind: 'audit', event_type: 'bad type!' })[0]).toMatchObject({ path: 'event_type' });
    expect(issuesOf({ kind: 'error', error_code: 'E', error_type: 'x', severity_level: 'low', error_message: 'x'.repeat(501) })[0]).toMatchObject({
      path: 'error_message',
    });
    expect(issuesOf({ kind: 'failed_login', failure_reason: 'INVALID_PASSWORD' })).toEqual([{ path: 'email_address', message: 'is required' }]);
    expect(issuesOf({ kind: 'session', session_id: 's' })[0]).toMatchObject({ path: 'expires_at' });
  });

  it('derive an event type for kinds whose seeds have none', () => {
    const derived = (raw: Record<string, unknown>) => {
      const r = parseEvent(raw);
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      return r.event.event_type;
    };
    expect(derived(SEED_EVENTS.failed_login_attempts)).toBe('login_failed');
    expect(derived(SEED_EVENTS.error_logs)).toBe('database');
    expect(derived(SEED_EVENTS.api_access_log)).toBe('api_request');
    expect(derived(SEED_EVENTS.rate_limit_violations)).toBe('burst');
    expect(derived(SEED_EVENTS.user_sessions)).toBe('session_ended');
    expect(derived({ ...SEED_EVENTS.user_sessions, is_active: true, logout_at: null, logout_reason: null })).toBe('session_started');
  });

  it('never store credentials from api_access request headers', () => {
    const r = parseEvent({ ...SEED_EVENTS.api_access_log, request_headers: { Authorization: 'Bearer s3cret', Cookie: 'sid=1', accept: '*/*' } });
    if (!r.ok || r.event.kind !== 'api_access') throw new Error('expected api_access');
    expect(r.event.request_headers).toEqual({ Authorization: '[redacted]', Cookie: '[redacted]', accept: '*/*' });
  });

  it('generate an event_id and occurred_at when the client sends none', () => {
    const before = Date.now();
    const r = parseEvent({ kind: 'audit', event_type: 'logout' });
    if (!r.ok) throw new Error('expected ok');
    expect(r.event.event_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.event.client_event_id).toBe(false);
    expect(r.event.occurred_at.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('name one table per kind after the seed tables', () => {
    expect(Object.fromEntries(EVENT_KIND_NAMES.map((k) => [k, EVENT_KINDS[k].table]))).toEqual({
      audit: 'audit_logs',
      auth: 'auth_audit_log',
      security: 'security_events',
      failed_login: 'failed_login_attempts',
      error: 'error_logs',
      api_access: 'api_access_log',
      rate_limit: 'rate_limit_violations',
      session: 'user_sessions',
    });
  });
});
