/**
 * How failed logins lock an account, and how locks escalate. One policy for
 * the API's own login guard and for the risk worker, read from settings
 * (`lockout.*`, see docs/security.md).
 */
export interface LockoutPolicy {
  /** Failed logins within the window that lock the account. */
  threshold: number;
  windowMinutes: number;
  /** The first lock's length. */
  durationMinutes: number;
  /** Each later lock lasts this many times the one before. */
  multiplier: number;
  /** No temporary lock lasts longer than this. */
  maxDurationMinutes: number;
  /** The lock after this many earlier locks is permanent (until an administrator unlocks); 0 never. */
  permanentAfter: number;
}

export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = {
  threshold: 5,
  windowMinutes: 15,
  durationMinutes: 15,
  multiplier: 2,
  maxDurationMinutes: 24 * 60,
  permanentAfter: 5,
};

/**
 * A permanent lock, as a time: `locked_until` stays a plain timestamp that
 * every "is it locked?" check already compares, and nothing reaches it.
 */
/** The failures, of those at `failedAt`, made within the `windowMinutes` before `now`: the window slides with each attempt. */
export function failuresInWindow(failedAt: readonly Date[], now: Date, windowMinutes: number): Date[] {
  const since = now.getTime() - windowMinutes * 60_000;
  return failedAt.filter((at) => at.getTime() > since);
}

export const PERMANENT_LOCK_UNTIL = new Date('9999-12-31T00:00:00.000Z');

export interface LockTerm {
  until: Date;
  permanent: boolean;
  /** Length of a temporary lock; null when permanent. */
  minutes: number | null;
}

/** The lock that follows `previousLocks` earlier ones. */
export function nextLock(policy: LockoutPolicy, previousLocks: number, now: Date): LockTerm {
  if (policy.permanentAfter > 0 && previousLocks >= policy.permanentAfter) return { until: PERMANENT_LOCK_UNTIL, permanent: true, minutes: null };
  const minutes = Math.min(policy.maxDurationMinutes, policy.durationMinutes * policy.multiplier ** Math.max(0, previousLocks));
  return { until: new Date(now.getTime() + Math.round(minutes * 60_000)), permanent: false, minutes };
}

export function isPermanentLock(until: Date | null): boolean {
  return until !== null && until.getTime() >= PERMANENT_LOCK_UNTIL.getTime();
}

/** The settings a policy is read from. */
export interface NumericSettings {
  integer(key: string, fallback: number): Promise<number>;
  number(key: string, fallback: number): Promise<number>;
}

export async function lockoutPolicyFrom(settings: NumericSettings): Promise<LockoutPolicy> {
  const d = DEFAULT_LOCKOUT_POLICY;
  const policy = {
    threshold: await settings.integer('lockout.threshold', d.threshold),
    windowMinutes: await settings.integer('lockout.window_minutes', d.windowMinutes),
    durationMinutes: await settings.number('lockout.duration_minutes', d.durationMinutes),
    multiplier: await settings.number('lockout.multiplier', d.multiplier),
    maxDurationMinutes: await settings.number('lockout.max_duration_minutes', d.maxDurationMinutes),
    permanentAfter: await settings.integer('lockout.permanent_after', d.permanentAfter),
  };
  // A nonsensical value falls back to the default rather than disabling lockout.
  if (policy.threshold < 1) policy.threshold = d.threshold;
  if (policy.windowMinutes < 1) policy.windowMinutes = d.windowMinutes;
  if (!(policy.durationMinutes > 0)) policy.durationMinutes = d.durationMinutes;
  if (!(policy.multiplier >= 1)) policy.multiplier = d.multiplier;
  if (!(policy.maxDurationMinutes >= policy.durationMinutes)) policy.maxDurationMinutes = Math.max(policy.durationMinutes, d.maxDurationMinutes);
  if (policy.permanentAfter < 0) policy.permanentAfter = 0;
  return policy;
}
