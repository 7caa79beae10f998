import fc from 'fast-check';
import { LIMITED_ROUTES } from '../../src/domain/route-limit-rules';
import { DEFAULT_LOCKOUT_POLICY } from '../../src/domain/lockout-policy';
import { RISK_DEFAULTS } from '../../src/features/risk/domain/risk-policy';
import { SETTING_RULES, settingProblem, weakening } from '../../src/features/settings/setting-rules';

describe('what a system setting may hold', () => {
  it.each([
    ['lockout.threshold', '5'],
    ['lockout.threshold', '20'],
    ['lockout.duration_minutes', '0.01'],
    ['lockout.permanent_after', '0'],
    ['risk.mode', 'audit_only'],
    ['rate_limit.register.per_ip', '10000'],
    ['some.setting_without_a_rule', 'anything'],
  ])('%s = %s is allowed', (key, value) => expect(settingProblem(key, value)).toBeNull());

  it.each([
    ['lockout.threshold', '0', 'lockout.threshold must be from 1 to 20 (got 0)'],
    ['lockout.threshold', '21', 'lockout.threshold must be from 1 to 20 (got 21)'],
    ['lockout.threshold', '2.5', 'lockout.threshold must be a whole number from 1 to 20'],
    ['lockout.threshold', '', 'lockout.threshold must be a number from 1 to 20'],
    ['lockout.threshold', 'five', 'lockout.threshold must be a number from 1 to 20'],
    ['lockout.multiplier', 'Infinity', 'lockout.multiplier must be a number from 1 to 10'],
    ['risk.mode', 'off', 'risk.mode must be one of enforce, audit_only'],
    ['rate_limit.mail.per_address', '0', 'rate_limit.mail.per_address must be from 1 to 10000 (got 0)'],
  ])('%s = %j is refused: %s', (key, value, problem) => expect(settingProblem(key, value)).toBe(problem));

  it('has a limit for every limited route, which cannot be switched off', () => {
    for (const [route, limits] of Object.entries(LIMITED_ROUTES)) {
      for (const per of ['per_ip', 'per_address'] as const) {
        const key = `rate_limit.${route}.${per}`;
        expect({ key, ruled: key in SETTING_RULES }).toEqual({ key, ruled: per in limits });
        if (per in limits) expect(settingProblem(key, '0')).not.toBeNull();
      }
    }
  });

  it('allows every default a limit ships with', () => {
    for (const [route, limits] of Object.entries(LIMITED_ROUTES) as [string, Record<string, unknown>][]) {
      for (const per of ['per_ip', 'per_address']) if (typeof limits[per] === 'number') expect(settingProblem(`rate_limit.${route}.${per}`, String(limits[per]))).toBeNull();
    }
  });
});

describe('which changes weaken protection (a HIGH security event and a webhook)', () => {
  it.each([
    ['lockout.threshold', '5', '10', 'more password guesses before an account locks'],
    ['lockout.window_minutes', '15', '5', 'failed logins are counted over a shorter window'],
    ['lockout.duration_minutes', '15', '1', 'locks end sooner'],
    ['lockout.permanent_after', '5', '0', 'accounts are locked for good later, or never'],
    ['lockout.permanent_after', '5', '8', 'accounts are locked for good later, or never'],
    ['risk.mode', 'enforce', 'audit_only', 'the risk engine only records, and locks and blocks nothing'],
    ['rate_limit.register.per_ip', '20', '21', 'register may be called more often from one address'],
    ['rate_limit.register.per_address', '3', '4', 'register may be called more often for one account'],
    ['risk.impossible_travel_kmh', '900', '1200', 'impossible travel is detected only at higher speeds'],
  ])('%s from %s to %s: %s', (key, before, after, risk) => expect(weakening(key, before, after)).toBe(risk));

  it.each([
    ['lockout.threshold', '10', '5'],
    ['lockout.threshold', '5', '5'],
    ['lockout.permanent_after', '0', '5'],
    ['lockout.permanent_after', '0', '0'],
    ['lockout.permanent_after', '5', '3'],
    ['risk.mode', 'audit_only', 'enforce'],
    ['risk.mode', 'audit_only', 'audit_only'],
    ['account.restore_window_days', '30', '365'],
    ['some.setting_without_a_rule', '1', '2'],
  ])('%s from %s to %s weakens nothing', (key, before, after) => expect(weakening(key, before, after)).toBeNull());

  it('does not judge a change from a value that was never valid (a hand-edited row)', () => {
    expect(weakening('lockout.threshold', 'garbage', '20')).toBeNull();
  });

  it('never calls both a change and its undoing a weakening', () => {
    const numeric = Object.entries(SETTING_RULES).filter(([, rule]) => rule.kind !== 'enum' && rule.weakens);
    fc.assert(
      fc.property(fc.constantFrom(...numeric), fc.nat(1000), fc.nat(1000), ([key, rule], a, b) => {
        const [x, y] = [a, b].map((n) => String(Math.max(rule.min!, Math.min(rule.max!, rule.kind === 'integer' ? n : n / 7))));
        expect(weakening(key, x!, y!) !== null && weakening(key, y!, x!) !== null).toBe(false);
      }),
    );
  });
  it('knows the default in force while a protective setting has no row: the one the code falls back to', () => {
    for (const [key, rule] of Object.entries(SETTING_RULES))
      if (rule.weakens) expect({ key, problem: rule.fallback === undefined ? 'no fallback' : settingProblem(key, rule.fallback) }).toEqual({ key, problem: null });
    const fallback = (key: string) => SETTING_RULES[key]!.fallback;
    expect(fallback('rate_limit.guest.per_ip')).toBe(String(LIMITED_ROUTES.guest.per_ip));
    expect(fallback('lockout.threshold')).toBe(String(DEFAULT_LOCKOUT_POLICY.threshold));
    expect(fallback('lockout.permanent_after')).toBe(String(DEFAULT_LOCKOUT_POLICY.permanentAfter));
    expect(fallback('risk.mode')).toBe(RISK_DEFAULTS.mode);
    expect(fallback('risk.ip_window_minutes')).toBe(String(RISK_DEFAULTS.ipWindowMinutes));
    expect(fallback('risk.ip_block_minutes')).toBe(String(RISK_DEFAULTS.ipBlockMinutes));
    expect(fallback('risk.impossible_travel_kmh')).toBe(String(RISK_DEFAULTS.impossibleTravelKmh));
  });
});
