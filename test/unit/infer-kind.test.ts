import fc from 'fast-check';
import { parseEvent } from '../../src/schemas/event';

function kindOf(raw: Record<string, unknown>) {
  const r = parseEvent(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.event.kind;
}

function issuesOf(raw: Record<string, unknown>) {
  const r = parseEvent(raw);
  if (r.ok) throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
  return r.issues;
}

describe('an event sent without kind', () => {
  it('takes the one kind whose fields it has', () => {
    expect(kindOf({ user_id: 'u', action: 'password_reset' })).toBe('audit');
    expect(kindOf({ actor_id: 'a', action_type: 'DELETE', entity_type: 'TODO', entity_id: 't1' })).toBe('audit');
    expect(kindOf({ email_address: 'x@example.com', failure_reason: 'INVALID_PASSWORD', lockout_status: null })).toBe('failed_login');
    expect(kindOf({ event_type: 'X', severity_level: 'HIGH', event_source: 'TODO_API' })).toBe('security');
    expect(kindOf({ event_category: 'BRUTE_FORCE', severity_level: 'HIGH', source_ip: '192.0.2.1' })).toBe('security');
    expect(kindOf({ error_code: 'E-1', error_type: 'database', severity_level: 'low', error_message: 'x' })).toBe('error');
    expect(kindOf({ method: 'GET', endpoint: '/x', response_status: 200 })).toBe('api_access');
    expect(kindOf({ ip_address: '192.0.2.1', endpoint: '/x', request_count: 9, limit_threshold: 5, time_window_minutes: 1 })).toBe('rate_limit');
    expect(kindOf({ session_id: 's', expires_at: '2025-01-01T00:00:00Z' })).toBe('session');
    expect(kindOf({ user_id: 'u', event_type: 'login', event_status: 'SUCCESS' })).toBe('auth');
  });

  it('when several kinds have its fields, takes the one whose required fields it has', () => {
    // ip_address, user_agent fit most kinds; only failed_login requires email_address and failure_reason.
    expect(kindOf({ email_address: 'x@example.com', failure_reason: 'INVALID_EMAIL', ip_address: '192.0.2.1' })).toBe('failed_login');
  });

  it('when audit and auth both fit, takes the kind of its catalogued event type', () => {
    const seed000 = { user_id: 12345, event_type: 'login', ip_address: '192.168.1.1', user_agent: 'Mozilla/5.0...', timestamp: '2025-03-02T08:00:00Z' };
    expect(kindOf(seed000)).toBe('auth');
    expect(kindOf({ ...seed000, event_type: 'login_failed' })).toBe('auth');
    expect(kindOf({ user_id: 'u', event_type: 'token_refreshed' })).toBe('auth');
    expect(kindOf({ user_id: 'u', event_type: 'user_created', ip_address: '192.0.2.1' })).toBe('audit');
    expect(kindOf({ user_id: 'u', event_type: 'account_locked' })).toBe('audit');
  });

  it('is refused, naming the kinds that fit, when the choice is not clear', () => {
    expect(issuesOf({ user_id: 'u', event_type: 'invoice_paid' })).toEqual([{ path: 'kind', message: 'is required: the row fits audit, auth; send "kind"' }]);
    expect(issuesOf({ action: 'x', email_address: 'x@example.com' })).toEqual([{ path: 'kind', message: 'is required: no kind has all of the fields action, email_address' }]);
    // A kind that is sent is never second-guessed.
    expect(issuesOf({ kind: 'auth', action: 'login' })).toEqual([{ path: '', message: 'unknown field(s): action' }]);
  });

  it('still reports its own fields once the kind is inferred', () => {
    expect(issuesOf({ user_id: 'u', action: 'login', ip_address: 'nope' })).toEqual([{ path: 'ip_address', message: 'must be an IPv4 or IPv6 address' }]);
    expect(issuesOf({ email_address: 'x@example.com', lockout_status: 'LOCKED' })).toEqual([{ path: 'failure_reason', message: 'is required' }]);
  });
});

describe('an audit event without event_type', () => {
  const typeOf = (raw: Record<string, unknown>) => {
    const r = parseEvent({ kind: 'audit', ...raw });
    if (!r.ok || r.event.kind !== 'audit') throw new Error(JSON.stringify(r));
    return { event_type: r.event.event_type, action: r.event.action, action_type: r.event.action_type };
  };

  it('takes action, then action_type; both stay in their own columns', () => {
    expect(typeOf({ action: 'password_reset' })).toEqual({ event_type: 'password_reset', action: 'password_reset', action_type: undefined });
    expect(typeOf({ action_type: 'update' })).toEqual({ event_type: 'UPDATE', action: undefined, action_type: 'UPDATE' });
    expect(typeOf({ action: 'login', action_type: 'READ' })).toEqual({ event_type: 'login', action: 'login', action_type: 'READ' });
    // An explicit event_type wins: action_type is then only the change kind, as our own API sends it.
    expect(typeOf({ event_type: 'email_changed', action: 'update', action_type: 'UPDATE' })).toEqual({ event_type: 'email_changed', action: 'update', action_type: 'UPDATE' });
  });

  it('is refused when neither gives a well-formed type', () => {
    expect(parseEvent({ kind: 'audit', user_id: 'u' })).toEqual({ ok: false, issues: [{ path: 'event_type', message: 'is required for kind "audit"' }] });
    expect(parseEvent({ kind: 'audit', action: 'reset the password' })).toEqual({
      ok: false,
      issues: [{ path: 'event_type', message: 'is required for kind "audit": "reset the password", taken from the row, is not a valid event type' }],
    });
  });
});

describe('a seed row id', () => {
  it('is the event_id when it is a UUID, and refused under its own name when it is not', () => {
    const r = parseEvent({ kind: 'audit', action: 'x', id: '7F1E3D98-3240-4E58-BB57-93E219DAAA10' });
    expect(r.ok && r.event.event_id).toBe('7f1e3d98-3240-4e58-bb57-93e219daaa10');
    expect(r.ok && r.event.client_event_id).toBe(true);
    for (const id of [17, 'row-17', null]) {
      expect(parseEvent({ kind: 'auth', event_type: 'login', id })).toEqual({ ok: false, issues: [{ path: 'id', message: expect.stringMatching(/only if it is a UUID/) }] });
    }
  });

  it('accepts created_at and timestamp as occurred_at', () => {
    for (const field of ['created_at', 'timestamp', 'occurred_at']) {
      const r = parseEvent({ kind: 'auth', event_type: 'login', [field]: '2025-06-21T14:12:00Z' });
      expect(r.ok && r.event.occurred_at.toISOString()).toBe('2025-06-21T14:12:00.000Z');
    }
  });
});

describe('kind inference on hostile rows', () => {
  const FIELDS = [
    'user_id',
    'action',
    'action_type',
    'event_type',
    'email_address',
    'failure_reason',
    'severity_level',
    'session_id',
    'expires_at',
    'id',
    'timestamp',
    '__proto__',
    'constructor',
    'toString',
    'kind',
  ];
  it('answers every row with a result, never a throw; an inferred kind is one the row is valid for when sent explicitly', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string()), fc.jsonValue(), { maxKeys: 8 }), (raw) => {
        const row = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
        const result = parseEvent(row);
        if (result.ok && !Object.hasOwn(row, 'kind')) expect(parseEvent({ ...row, kind: result.event.kind }).ok).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
