import fc from 'fast-check';
import { DEFAULT_LOCKOUT_POLICY, isPermanentLock, lockoutPolicyFrom, nextLock, PERMANENT_LOCK_UNTIL, type LockoutPolicy, failuresInWindow } from '../../src/domain/lockout-policy';
import { riskPolicyFrom, RISK_DEFAULTS } from '../../src/features/risk/domain/risk-policy';

const now = new Date('2026-11-22T12:00:00.000Z');
const minutesFromNow = (m: number) => new Date(now.getTime() + m * 60_000);

/** System settings held in memory, read the way the settings service is (a fallback when unset). */
function settings(values: Record<string, string>) {
  const read = (key: string, fallback: number) => (key in values ? Number(values[key]) : fallback);
  return {
    integer: async (key: string, fallback: number) => Math.trunc(read(key, fallback)),
    number: async (key: string, fallback: number) => read(key, fallback),
    text: async (key: string, fallback: string) => values[key] ?? fallback,
  };
}

describe('how long a lock lasts (default policy)', () => {
  it('doubles with each lock, from 15 minutes', () => {
    const minutes = [0, 1, 2, 3, 4].map((n) => nextLock(DEFAULT_LOCKOUT_POLICY, n, now).minutes);
    expect(minutes).toEqual([15, 30, 60, 120, 240]);
    expect(nextLock(DEFAULT_LOCKOUT_POLICY, 0, now)).toEqual({ until: minutesFromNow(15), permanent: false, minutes: 15 });
  });

  it('is permanent after five earlier locks, until an administrator unlocks', () => {
    expect(nextLock(DEFAULT_LOCKOUT_POLICY, 5, now)).toEqual({ until: PERMANENT_LOCK_UNTIL, permanent: true, minutes: null });
    expect(isPermanentLock(nextLock(DEFAULT_LOCKOUT_POLICY, 5, now).until)).toBe(true);
    expect(isPermanentLock(nextLock(DEFAULT_LOCKOUT_POLICY, 4, now).until)).toBe(false);
    expect(isPermanentLock(null)).toBe(false);
  });

  it('is capped at the maximum, and never permanent when permanent_after is 0', () => {
    const never: LockoutPolicy = { ...DEFAULT_LOCKOUT_POLICY, permanentAfter: 0 };
    expect(nextLock(never, 50, now)).toEqual({ until: minutesFromNow(1440), permanent: false, minutes: 1440 });
  });

  it('keeps fractional minutes to the millisecond', () => {
    const short: LockoutPolicy = { ...DEFAULT_LOCKOUT_POLICY, durationMinutes: 0.01, multiplier: 1 };
    expect(nextLock(short, 0, now).until.getTime() - now.getTime()).toBe(600);
  });

  it('never gets shorter as locks repeat, whatever the policy', () => {
    const policies = fc.record({
      threshold: fc.integer({ min: 1, max: 20 }),
      windowMinutes: fc.integer({ min: 1, max: 1440 }),
      durationMinutes: fc.double({ min: 0.01, max: 10_080, noNaN: true }),
      multiplier: fc.double({ min: 1, max: 10, noNaN: true }),
      maxDurationMinutes: fc.double({ min: 10_080, max: 525_600, noNaN: true }),
      permanentAfter: fc.integer({ min: 0, max: 100 }),
    });
    fc.assert(
      fc.property(policies, fc.nat(120), (policy, locks) => {
        const a = nextLock(policy, locks, now);
        const b = nextLock(policy, locks + 1, now);
        expect(b.until.getTime()).toBeGreaterThanOrEqual(a.until.getTime());
        expect(a.permanent || a.minutes! <= policy.maxDurationMinutes).toBe(true);
      }),
    );
  });
});

describe('the lockout policy read from settings', () => {
  it('is the default when nothing is set', async () => {
    expect(await lockoutPolicyFrom(settings({}))).toEqual(DEFAULT_LOCKOUT_POLICY);
  });

  it('takes what is set', async () => {
    const policy = await lockoutPolicyFrom(settings({ 'lockout.threshold': '3', 'lockout.duration_minutes': '2.5', 'lockout.permanent_after': '0' }));
    expect(policy).toMatchObject({ threshold: 3, durationMinutes: 2.5, permanentAfter: 0 });
  });

  it('falls back to a default rather than switching lockout off for a nonsensical value', async () => {
    const policy = await lockoutPolicyFrom(settings({ 'lockout.threshold': '0', 'lockout.window_minutes': '-5', 'lockout.duration_minutes': 'NaN', 'lockout.multiplier': '0.5' }));
    expect(policy).toEqual(DEFAULT_LOCKOUT_POLICY);
  });

  it('reads a negative permanent_after as 0: locks escalate but never become permanent', async () => {
    expect((await lockoutPolicyFrom(settings({ 'lockout.permanent_after': '-1' }))).permanentAfter).toBe(0);
  });

  it('never caps a lock below its first duration', async () => {
    const policy = await lockoutPolicyFrom(settings({ 'lockout.duration_minutes': '3000', 'lockout.max_duration_minutes': '60' }));
    expect(policy.maxDurationMinutes).toBe(3000);
  });
});

describe("the risk worker's policy read from settings", () => {
  it('enforces by default, and lets loopback through', async () => {
    const policy = await riskPolicyFrom(settings({}));
    expect(policy).toMatchObject({ mode: 'enforce', ipWindowMinutes: 60, ipBlockMinutes: 15, impossibleTravelKmh: 900, lockout: DEFAULT_LOCKOUT_POLICY });
    expect(policy.neverBlockIps.has('127.0.0.1') && policy.neverBlockIps.has('::1')).toBe(true);
    expect(policy.knownBadIps.size).toBe(0);
  });

  it('enforces when the mode is misspelled: a typo must not switch protection off', async () => {
    expect((await riskPolicyFrom(settings({ 'risk.mode': 'audit-only' }))).mode).toBe('enforce');
    expect((await riskPolicyFrom(settings({ 'risk.mode': 'audit_only' }))).mode).toBe('audit_only');
  });

  it('falls back to the defaults for windows and speeds that are not positive', async () => {
    const policy = await riskPolicyFrom(settings({ 'risk.ip_window_minutes': '0', 'risk.ip_block_minutes': '-1', 'risk.impossible_travel_kmh': '0' }));
    expect(policy).toMatchObject({ ipWindowMinutes: RISK_DEFAULTS.ipWindowMinutes, ipBlockMinutes: RISK_DEFAULTS.ipBlockMinutes, impossibleTravelKmh: RISK_DEFAULTS.impossibleTravelKmh });
  });

  it('reads the IP lists', async () => {
    const policy = await riskPolicyFrom(settings({ 'risk.known_bad_ips': '192.0.2.0/24', 'risk.never_block_ips': '' }));
    expect(policy.knownBadIps.has('192.0.2.77')).toBe(true);
    expect(policy.neverBlockIps.has('127.0.0.1')).toBe(false);
  });
});

describe('failuresInWindow', () => {
  const now = new Date('2026-12-08T12:00:00.000Z');
  const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

  it('keeps the failures made within the window before now, wherever the first one was', () => {
    expect(failuresInWindow([ago(905), ago(15), ago(14), ago(13)], now, 15)).toEqual([ago(15), ago(14), ago(13)]);
  });

  it('drops a failure exactly one window old, and keeps everything for a window of a day', () => {
    expect(failuresInWindow([ago(900), ago(899)], now, 15)).toEqual([ago(899)]);
    expect(failuresInWindow([ago(3600)], now, 24 * 60)).toEqual([ago(3600)]);
  });
});
