import { AUTH_OUTCOMES, authOutcomeOf, type AuthOutcome } from '../../src/schemas/auth-outcome';
import { AUTH_EVENT_TYPES, EVENT_CATALOG } from '../../src/schemas/event-catalog';
import { parseEvent } from '../../src/schemas/event';

describe('authOutcomeOf', () => {
  it('gives every auth-like type of the catalog and of seed 000 an outcome of its own', () => {
    const authLike = [...Object.keys(EVENT_CATALOG.authentication), ...Object.keys(EVENT_CATALOG.security), ...AUTH_EVENT_TYPES];
    for (const type of authLike) expect({ type, listed: Object.hasOwn(AUTH_OUTCOMES, type) }).toEqual({ type, listed: true });
  });

  it.each<[string, AuthOutcome]>([
    // Seed 000: a failure is `login_failed`, so a bare `login` is a login that worked.
    ['login', 'SUCCESS'],
    ['login_failed', 'FAILURE'],
    ['login_success', 'SUCCESS'],
    ['logout', 'SUCCESS'],
    ['password_change', 'SUCCESS'],
    ['password_changed', 'SUCCESS'],
    ['password_reset_requested', 'SUCCESS'],
    ['password_reset_completed', 'SUCCESS'],
    ['token_refreshed', 'SUCCESS'],
    ['session_expired', 'SUCCESS'],
    ['account_locked', 'SUCCESS'],
    ['2fa_enabled', 'SUCCESS'],
    // Any case.
    ['LOGIN_FAILED', 'FAILURE'],
    ['Login', 'SUCCESS'],
    // Outside the catalog: by its words.
    ['failed_login', 'FAILURE'],
    ['signin_failure', 'FAILURE'],
    ['loginFailed', 'FAILURE'],
    ['auth.login.denied', 'FAILURE'],
    ['mfa-invalid', 'FAILURE'],
    ['login_unsuccessful', 'FAILURE'],
    ['AUTHENTICATION_FAILURE', 'FAILURE'],
    ['login_attempt', 'UNKNOWN'],
    ['signin_attempted', 'UNKNOWN'],
    ['sso_login', 'SUCCESS'],
    ['signed_in', 'SUCCESS'],
    // Not a table lookup by prototype: `constructor` is just an unknown word.
    ['constructor', 'SUCCESS'],
    // `failover` and `success` are not failure words.
    ['failover_login', 'SUCCESS'],
  ])('%s → %s', (type, outcome) => {
    expect(authOutcomeOf(type)).toBe(outcome);
  });

  it('is what an auth event without event_status stores; a sent event_status wins', () => {
    const status = (raw: Record<string, unknown>) => {
      const r = parseEvent(raw);
      if (!r.ok || r.event.kind !== 'auth') throw new Error(JSON.stringify(r));
      return r.event.event_status;
    };
    expect(status({ kind: 'auth', event_type: 'login_failed' })).toBe('FAILURE');
    expect(status({ kind: 'auth', event_type: 'login_failed', event_status: null })).toBe('FAILURE');
    expect(status({ kind: 'auth', event_type: 'login' })).toBe('SUCCESS');
    expect(status({ kind: 'auth', event_type: 'login_attempt' })).toBe('UNKNOWN');
    expect(status({ kind: 'auth', event_type: 'login_failed', event_status: 'success' })).toBe('SUCCESS');
  });
});
