/**
 * Login attacks as an app reports them, in two shapes that must score alike:
 * - `seed000`: seed 000's AuthUserEvent row, verbatim: no kind, no
 *   event_status, only `event_type` (`login` / `login_failed`) and `timestamp`;
 * - `status`: the same row with `kind: "auth"` and an explicit `event_status`.
 * (The scenarios follow traffic/simulation/traffic.ts, which tests must not import.)
 */
export type LoginShape = 'seed000' | 'status';

export interface LoginAttempt {
  userId: string;
  ip: string;
  ok: boolean;
  /** When it happened. */
  at: Date;
  userAgent?: string;
}

export function loginEvent(shape: LoginShape, a: LoginAttempt): Record<string, unknown> {
  const row = {
    user_id: a.userId,
    event_type: a.ok ? 'login' : 'login_failed',
    ip_address: a.ip,
    user_agent: a.userAgent ?? 'python-requests/2.32',
    timestamp: a.at.toISOString(),
  };
  return shape === 'seed000' ? row : { kind: 'auth', ...row, event_status: a.ok ? 'SUCCESS' : 'FAILURE' };
}

const SECOND = 1000;
const DAY = 86_400_000;

/**
 * Brute force: the owner logged in from home two days ago; then `attempts`
 * wrong passwords on that one account from one attacker IP, 2 s apart, the
 * last one just now. Oldest first.
 */
export function bruteForce(shape: LoginShape, o: { userId: string; homeIp: string; attackerIp: string; attempts: number; now?: number }): Record<string, unknown>[] {
  const now = o.now ?? Date.now();
  return [
    loginEvent(shape, { userId: o.userId, ip: o.homeIp, ok: true, at: new Date(now - 2 * DAY), userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' }),
    ...Array.from({ length: o.attempts }, (_, i) => loginEvent(shape, { userId: o.userId, ip: o.attackerIp, ok: false, at: new Date(now - (o.attempts - 1 - i) * 2 * SECOND) })),
  ];
}

/** Credential stuffing: one IP tries a leaked list, each account once, 1 s apart, the last one just now. Oldest first. */
export function credentialStuffing(shape: LoginShape, o: { userPrefix: string; attackerIp: string; accounts: number; now?: number }): Record<string, unknown>[] {
  const now = o.now ?? Date.now();
  return Array.from({ length: o.accounts }, (_, i) => loginEvent(shape, { userId: `${o.userPrefix}-${i}`, ip: o.attackerIp, ok: false, at: new Date(now - (o.accounts - 1 - i) * SECOND) }));
}
