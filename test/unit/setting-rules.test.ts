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
    const numeric = Object.entries(SETTING_RULES).filter(([, rule]) => (rule.kind === 'integer' || rule.kind === 'number') && rule.weakens);
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

describe('the never-block and known-bad IP lists', () => {
  const NEVER = 'risk.never_block_ips';
  const BAD = 'risk.known_bad_ips';

  it.each([
    [NEVER, '127.0.0.1, ::1'],
    [NEVER, '10.0.0.0/8 fd00:1234::/32\n192.0.2.10'],
    [NEVER, ''],
    [BAD, '0.0.0.0/0, ::/0'],
  ])('%s = %j is allowed', (key, value) => expect(settingProblem(key, value)).toBeNull());

  it.each([
    [NEVER, '::/0, 0.0.0.0/0', 'risk.never_block_ips may not hold ranges wider than /8 (IPv4) or /16 (IPv6) (got ::/0, 0.0.0.0/0)'],
    [NEVER, '0.0.0.0/1, 128.0.0.0/1', 'risk.never_block_ips may not hold ranges wider than /8 (IPv4) or /16 (IPv6) (got 0.0.0.0/1, 128.0.0.0/1)'],
    [NEVER, '2000::/3', 'risk.never_block_ips may not hold ranges wider than /8 (IPv4) or /16 (IPv6) (got 2000::/3)'],
    // All of IPv4, spelled as IPv4-mapped IPv6.
    [NEVER, '::ffff:0:0/96', 'risk.never_block_ips may not hold ranges wider than /8 (IPv4) or /16 (IPv6) (got ::ffff:0:0/96)'],
    [NEVER, '127.0.0.1, localhost', 'risk.never_block_ips must list IP addresses or CIDR ranges, separated by commas or spaces (not localhost)'],
    [BAD, '198.51.100.7, 198.51.100.0/33', 'risk.known_bad_ips must list IP addresses or CIDR ranges, separated by commas or spaces (not 198.51.100.0/33)'],
  ])('%s = %j is refused: %s', (key, value, problem) => expect(settingProblem(key, value)).toBe(problem));

  it.each([
    [NEVER, '127.0.0.1, ::1', '127.0.0.1, ::1, 192.0.2.10', 'more addresses are never blocked, however they attack'],
    [NEVER, '192.0.2.10', '192.0.2.0/24', 'more addresses are never blocked, however they attack'],
    [NEVER, '', '::1', 'more addresses are never blocked, however they attack'],
    [BAD, '198.51.100.0/24, 203.0.113.9', '198.51.100.0/24', 'addresses known to be bad are no longer treated as such'],
    [BAD, '198.51.100.0/24', '198.51.100.0/25', 'addresses known to be bad are no longer treated as such'],
    [BAD, '198.51.100.0/24', '', 'addresses known to be bad are no longer treated as such'],
    // A stored list with a bad entry (written by hand) is still read, so shrinking it still weakens.
    [BAD, '198.51.100.7, oops', 'oops', 'addresses known to be bad are no longer treated as such'],
  ])('%s from %j to %j: %s', (key, before, after, risk) => expect(weakening(key, before, after)).toBe(risk));

  it.each([
    [NEVER, '127.0.0.1, ::1, 192.0.2.10', '::1 127.0.0.1'],
    [NEVER, '192.0.2.0/24', '192.0.2.10'],
    [NEVER, '::1, 127.0.0.1', '0:0:0:0:0:0:0:1\n127.0.0.1'],
    [BAD, '198.51.100.0/25', '198.51.100.0/24'],
    [BAD, '', '203.0.113.9'],
  ])('%s from %j to %j weakens nothing', (key, before, after) => expect(weakening(key, before, after)).toBeNull());

  it('are in force as the code defaults while no row exists', () => {
    expect(SETTING_RULES[NEVER]!.fallback).toBe(RISK_DEFAULTS.neverBlockIps);
    expect(SETTING_RULES[BAD]!.fallback).toBe(RISK_DEFAULTS.knownBadIps);
  });
});
