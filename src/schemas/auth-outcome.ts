/**
 * What an `auth` event's type says about its outcome, for apps that send
 * only the type (auth_user_event, user_audit_log; docs/data-model.md):
 * `login_failed` is a failure even without `event_status: "FAILURE"`.
 *
 * - `SUCCESS`: the type names something that happened (`login`, `logout`, …).
 * - `FAILURE`: the type names a failed attempt.
 * - `UNKNOWN`: the type names an attempt and not its outcome
 *   (`login_attempt`). Stored as such; the risk worker counts it as an
 *   attempt, neither a failed guess nor a login that vouches for its device.
 */
export type AuthOutcome = 'SUCCESS' | 'FAILURE' | 'UNKNOWN';

/**
 * Every auth-like type of the catalog (its authentication and security
 * categories) and of auth_user_event, which logs failures as
 * `login_failed` and a login as `login`, so a bare `login` is a success.
 */
export const AUTH_OUTCOMES: Readonly<Record<string, AuthOutcome>> = {
  login: 'SUCCESS',
  login_success: 'SUCCESS',
  login_failed: 'FAILURE',
  logout: 'SUCCESS',
  password_change: 'SUCCESS',
  password_changed: 'SUCCESS',
  password_reset_requested: 'SUCCESS',
  password_reset_completed: 'SUCCESS',
  token_refreshed: 'SUCCESS',
  session_expired: 'SUCCESS',
  suspicious_activity: 'SUCCESS',
  account_locked: 'SUCCESS',
  '2fa_enabled': 'SUCCESS',
  '2fa_disabled': 'SUCCESS',
};

/** Words that make an uncatalogued type a failure (`signin_denied`, `authenticationFailure`). */
const FAILURE_WORDS = new Set(['fail', 'failed', 'failure', 'failures', 'denied', 'rejected', 'invalid', 'unsuccessful', 'unauthorized']);
/** Words that name an attempt without its outcome. */
const ATTEMPT_WORDS = new Set(['attempt', 'attempts', 'attempted', 'try', 'tried']);

/** `loginFailed`, `LOGIN-FAILED`, `auth.login_failed` → lower-case words. */
export function wordsOf(eventType: string): string[] {
  return eventType
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/**
 * The outcome an auth event's type implies: the table above (any case), else
 * a failure word, else an attempt word, else SUCCESS (auth_audit_log's
 * `event_status DEFAULT 'SUCCESS'`: an auth event reports what happened).
 */
export function authOutcomeOf(eventType: string): AuthOutcome {
  const lower = eventType.toLowerCase();
  if (Object.hasOwn(AUTH_OUTCOMES, lower)) return AUTH_OUTCOMES[lower]!;
  const words = wordsOf(eventType);
  if (words.some((w) => FAILURE_WORDS.has(w))) return 'FAILURE';
  if (words.some((w) => ATTEMPT_WORDS.has(w))) return 'UNKNOWN';
  return 'SUCCESS';
}
