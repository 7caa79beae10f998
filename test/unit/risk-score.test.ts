import fc from 'fast-check';
import { DEFAULT_LOCKOUT_POLICY } from '../../src/domain/lockout-policy';
import { IpList } from '../../src/domain/network';
import { RISK_DEFAULTS, type RiskPolicy } from '../../src/features/risk/domain/risk-policy';
import type { RiskObservation } from '../../src/features/risk/domain/risk-observation';
import { HIGH_AT, levelOf, MEDIUM_AT, scoreEvent, type RiskAssessment, type RiskLevel } from '../../src/features/risk/domain/risk-score';
import type { RiskSignals } from '../../src/features/risk/state/risk-state';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const HOUR = 3_600_000;
const PARIS = { lat: 48.8566, lon: 2.3522 };
const LONDON = { lat: 51.5074, lon: -0.1278 };
const NEW_YORK = { lat: 40.7128, lon: -74.006 };
const BAD_IP = '192.0.2.66';
const KNOWN_BAD = IpList.parse(`${BAD_IP}, 203.0.113.0/28`);
/** The defaults, and one trusted IPv6 /64 (a monitoring network) inside a /48 that attackers share. */
const NEVER_BLOCK = IpList.parse(`${RISK_DEFAULTS.neverBlockIps}, 2001:db8:9:1::/64`);
/** An IPv6 caller, in the site 2001:db8:5::/48. */
const V6 = '2001:db8:5:1::7';

function policy(over: Partial<RiskPolicy> = {}): RiskPolicy {
  return {
    mode: 'enforce',
    lockout: DEFAULT_LOCKOUT_POLICY,
    ipWindowMinutes: RISK_DEFAULTS.ipWindowMinutes,
    ipBlockMinutes: RISK_DEFAULTS.ipBlockMinutes,
    knownBadIps: KNOWN_BAD,
    neverBlockIps: NEVER_BLOCK,
    impossibleTravelKmh: RISK_DEFAULTS.impossibleTravelKmh,
    ...over,
  };
}

/** A login by user u1 from 198.51.100.7 that worked. */
function login(over: Partial<RiskObservation> = {}): RiskObservation {
  return {
    eventId: 'e1',
    sourceApp: 'shop',
    attemptKey: 'shop|e1',
    subject: 'u1',
    userId: 'u1',
    email: null,
    ip: '198.51.100.7',
    network: '198.51.100.0/24',
    device: 'd1',
    coordinates: null,
    at: NOW,
    receivedAt: NOW,
    isFailure: false,
    isSuccess: true,
    isAttempt: true,
    sessionId: null,
    appScore: 0,
    steppedUp: false,
    sharesIpReputation: false,
    ...over,
  };
}

const failed = (over: Partial<RiskObservation> = {}) => login({ isFailure: true, isSuccess: false, ...over });

/** Nothing remembered about the account or the IP. */
function signals(over: Partial<RiskSignals> = {}): RiskSignals {
  return {
    accountFailures: 0,
    accountFailureIps: 0,
    knownDevices: 0,
    deviceKnown: null,
    knownNetworks: 0,
    networkKnown: null,
    previousLocation: null,
    ipFailedAccounts: 0,
    ipAttemptsPerMinute: 0,
    siteFailedAccounts: 0,
    siteAttemptsPerMinute: 0,
    ...over,
  };
}

/** What a user or an analyst sees of a decision: the score, its level, the action, and which factors gave how many points. */
function verdict(a: RiskAssessment) {
  return {
    score: a.score,
    level: a.level,
    action: a.action,
    factors: Object.fromEntries(a.factors.map((f) => [f.signal, f.points])),
    lock: a.lockAccount,
    block: a.blockIp,
    ...(a.blockSite ? { blockSite: true } : {}),
  };
}

describe('risk levels', () => {
  it.each<[number, RiskLevel]>([
    [0, 'low'],
    [MEDIUM_AT - 1, 'low'],
    [MEDIUM_AT, 'medium'],
    [HIGH_AT - 1, 'medium'],
    [HIGH_AT, 'high'],
    [100, 'high'],
  ])('a score of %i is %s', (score, level) => expect(levelOf(score)).toBe(level));

  it('are bounded at 30 and 70, as the daily risk distribution counts them', () => {
    expect([MEDIUM_AT, HIGH_AT]).toEqual([30, 70]);
  });
});

describe('the score of known situations (default policy: lockout at 5 failures)', () => {
  it.each<[string, RiskObservation, RiskSignals, ReturnType<typeof verdict>]>([
    ['a first login, nothing known yet', login(), signals(), { score: 0, level: 'low', action: 'none', factors: {}, lock: false, block: false }],
    ['a first login on a new device is not unfamiliar', login(), signals({ knownDevices: 0, deviceKnown: false }), { score: 0, level: 'low', action: 'none', factors: {}, lock: false, block: false }],
    ['one wrong password', failed(), signals({ accountFailures: 1, accountFailureIps: 1 }), { score: 5, level: 'low', action: 'none', factors: { failed_attempt: 5 }, lock: false, block: false }],
    [
      'the 2nd failure',
      failed(),
      signals({ accountFailures: 2, accountFailureIps: 1 }),
      { score: 15, level: 'low', action: 'none', factors: { failed_attempt: 5, account_failures: 10 }, lock: false, block: false },
    ],
    [
      'the 3rd failure',
      failed(),
      signals({ accountFailures: 3, accountFailureIps: 1 }),
      { score: 25, level: 'low', action: 'none', factors: { failed_attempt: 5, account_failures: 20 }, lock: false, block: false },
    ],
    [
      'the 4th failure',
      failed(),
      signals({ accountFailures: 4, accountFailureIps: 1 }),
      { score: 25, level: 'low', action: 'none', factors: { failed_attempt: 5, account_failures: 20 }, lock: false, block: false },
    ],
    [
      'the 5th failure locks the account, whatever the level',
      failed(),
      signals({ accountFailures: 5, accountFailureIps: 1 }),
      { score: 50, level: 'medium', action: 'block', factors: { failed_attempt: 5, account_failures: 45 }, lock: true, block: false },
    ],
    [
      'failures from 3 IPs',
      failed(),
      signals({ accountFailures: 3, accountFailureIps: 3 }),
      { score: 50, level: 'medium', action: 'step_up', factors: { failed_attempt: 5, account_failures: 20, account_many_ips: 25 }, lock: false, block: false },
    ],
    [
      'failures from 5 IPs (credential stuffing at one account) lock it',
      failed(),
      signals({ accountFailures: 4, accountFailureIps: 5 }),
      { score: 75, level: 'high', action: 'block', factors: { failed_attempt: 5, account_failures: 20, account_many_ips: 50 }, lock: true, block: false },
    ],
    ['a new device', login(), signals({ knownDevices: 2, deviceKnown: false }), { score: 15, level: 'low', action: 'none', factors: { new_device: 15 }, lock: false, block: false }],
    [
      'a new device on a new network asks for a step-up',
      login(),
      signals({ knownDevices: 2, deviceKnown: false, knownNetworks: 1, networkKnown: false }),
      { score: 30, level: 'medium', action: 'step_up', factors: { new_device: 15, new_network: 15 }, lock: false, block: false },
    ],
    [
      'one IP failing for 5 accounts is blocked',
      failed(),
      signals({ accountFailures: 1, accountFailureIps: 1, ipFailedAccounts: 5 }),
      { score: 55, level: 'medium', action: 'block', factors: { failed_attempt: 5, ip_many_accounts: 50 }, lock: false, block: true },
    ],
    [
      'one IP failing for 10 accounts (password spraying)',
      failed(),
      signals({ accountFailures: 1, accountFailureIps: 1, ipFailedAccounts: 10 }),
      { score: 75, level: 'high', action: 'block', factors: { failed_attempt: 5, ip_many_accounts: 70 }, lock: false, block: true },
    ],
    ['20 attempts a minute from one IP', login(), signals({ ipAttemptsPerMinute: 20 }), { score: 30, level: 'medium', action: 'step_up', factors: { attempt_rate: 30 }, lock: false, block: false }],
    ['60 attempts a minute from one IP', login(), signals({ ipAttemptsPerMinute: 60 }), { score: 50, level: 'medium', action: 'block', factors: { attempt_rate: 50 }, lock: false, block: true }],
    ['a login from a known-bad IP', login({ ip: BAD_IP }), signals(), { score: 80, level: 'high', action: 'block', factors: { known_bad_ip: 80 }, lock: false, block: true }],
    ['a login from a known-bad range', login({ ip: '203.0.113.9' }), signals(), { score: 80, level: 'high', action: 'block', factors: { known_bad_ip: 80 }, lock: false, block: true }],
    [
      'a never-block address is scored but not blocked',
      failed({ ip: '127.0.0.1' }),
      signals({ accountFailures: 1, accountFailureIps: 1, ipFailedAccounts: 10 }),
      { score: 75, level: 'high', action: 'block', factors: { failed_attempt: 5, ip_many_accounts: 70 }, lock: false, block: false },
    ],
    [
      'everything at once is capped at 100',
      failed({ ip: BAD_IP }),
      signals({ accountFailures: 9, accountFailureIps: 6, ipFailedAccounts: 12, ipAttemptsPerMinute: 100 }),
      {
        score: 100,
        level: 'high',
        action: 'block',
        factors: { failed_attempt: 5, account_failures: 45, account_many_ips: 50, ip_many_accounts: 70, attempt_rate: 50, known_bad_ip: 80 },
        lock: true,
        block: true,
      },
    ],
    [
      'an IPv6 /48 whose /64s failed for 80 accounts, one each (a rotation): the site is blocked, not the /64',
      failed({ ip: V6, network: '2001:db8:5::/48' }),
      signals({ accountFailures: 1, accountFailureIps: 1, ipFailedAccounts: 1, siteFailedAccounts: 80 }),
      { score: 55, level: 'medium', action: 'block', factors: { failed_attempt: 5, site_many_accounts: 50 }, lock: false, block: false, blockSite: true },
    ],
    [
      'an IPv6 /48 with 79 failed accounts, a large office on a bad morning, is counted but not blocked',
      failed({ ip: V6, network: '2001:db8:5::/48' }),
      signals({ accountFailures: 1, accountFailureIps: 1, ipFailedAccounts: 1, siteFailedAccounts: 79 }),
      { score: 30, level: 'medium', action: 'step_up', factors: { failed_attempt: 5, site_many_accounts: 25 }, lock: false, block: false },
    ],
    [
      '960 attempts a minute from one IPv6 /48',
      login({ ip: V6, network: '2001:db8:5::/48' }),
      signals({ ipAttemptsPerMinute: 1, siteAttemptsPerMinute: 960 }),
      { score: 50, level: 'medium', action: 'block', factors: { site_attempt_rate: 50 }, lock: false, block: false, blockSite: true },
    ],
    [
      'an IPv4 address has no site: the counts are not read',
      failed(),
      signals({ accountFailures: 1, accountFailureIps: 1, siteFailedAccounts: 500, siteAttemptsPerMinute: 5000 }),
      { score: 5, level: 'low', action: 'none', factors: { failed_attempt: 5 }, lock: false, block: false },
    ],
    [
      'a never-block range that overlaps the site: scored, the site not blocked',
      failed({ ip: '2001:db8:9:1::5', network: '2001:db8:9::/48' }),
      signals({ accountFailures: 1, accountFailureIps: 1, siteFailedAccounts: 200 }),
      { score: 75, level: 'high', action: 'block', factors: { failed_attempt: 5, site_many_accounts: 70 }, lock: false, block: false },
    ],
    [
      'a failure for an unknown account with no IP counts only as a failure',
      failed({ subject: null, userId: null, ip: null, network: null }),
      signals({ accountFailures: 9, ipFailedAccounts: 12 }),
      { score: 5, level: 'low', action: 'none', factors: { failed_attempt: 5 }, lock: false, block: false },
    ],
  ])('%s', (_name, o, s, expected) => expect(verdict(scoreEvent(o, s, policy()))).toEqual(expected));

  it('explains each factor in words, with the count and the tier it crossed', () => {
    const a = scoreEvent(failed(), signals({ accountFailures: 4, accountFailureIps: 1, ipFailedAccounts: 3 }), policy());
    expect(a.factors).toEqual([
      { signal: 'failed_attempt', points: 5, reason: 'a failed login', scope: 'account' },
      { signal: 'account_failures', points: 20, reason: '4 failed logins for this account in 15 min (lockout at 5)', scope: 'account', value: 4, threshold: 3 },
      { signal: 'ip_many_accounts', points: 25, reason: '3 accounts failed from this IP in 60 min', scope: 'ip', value: 3, threshold: 3 },
    ]);
  });

  it('locks at the configured threshold', () => {
    const strict = policy({ lockout: { ...DEFAULT_LOCKOUT_POLICY, threshold: 3 } });
    expect(verdict(scoreEvent(failed(), signals({ accountFailures: 3, accountFailureIps: 1 }), strict))).toMatchObject({ score: 50, action: 'block', lock: true });
    expect(verdict(scoreEvent(failed(), signals({ accountFailures: 2, accountFailureIps: 1 }), strict))).toMatchObject({ score: 25, action: 'none', lock: false });
  });
});

describe('impossible travel', () => {
  const from = (place: { lat: number; lon: number }, hoursAgo: number) => signals({ previousLocation: { ...place, at: NOW - hoursAgo * HOUR } });

  it('Paris, then New York an hour later', () => {
    const a = scoreEvent(login({ coordinates: NEW_YORK }), from(PARIS, 1), policy());
    expect(verdict(a)).toEqual({ score: 50, level: 'medium', action: 'step_up', factors: { impossible_travel: 50 }, lock: false, block: false });
    expect(a.factors[0]!.reason).toMatch(/^58\d\d km from the last login in 1\.0 h \(58\d\d km\/h\)$/);
  });

  it('with a new device and network too, is high risk and locks the account', () => {
    const s = { ...from(PARIS, 1), knownDevices: 1, deviceKnown: false, knownNetworks: 1, networkKnown: false };
    expect(verdict(scoreEvent(login({ coordinates: NEW_YORK }), s, policy()))).toMatchObject({ score: 80, level: 'high', action: 'block', lock: true, block: false });
  });

  it.each([
    ['Paris to London in a minute: under 500 km is never impossible', LONDON, 1 / 60],
    ['Paris to New York in 10 hours: a flight', NEW_YORK, 10],
  ])('%s', (_name, to, hours) => {
    expect(scoreEvent(login({ coordinates: to }), from(PARIS, hours), policy()).factors).toEqual([]);
  });

  it('is judged against the configured speed', () => {
    const sixHours = from(PARIS, 6); // about 970 km/h
    expect(scoreEvent(login({ coordinates: NEW_YORK }), sixHours, policy()).score).toBe(50);
    expect(scoreEvent(login({ coordinates: NEW_YORK }), sixHours, policy({ impossibleTravelKmh: 1000 })).score).toBe(0);
  });
});

describe("the sending app's own score", () => {
  it('is a floor, recorded as a factor of 0 points', () => {
    const a = scoreEvent(login({ appScore: 90 }), signals(), policy());
    expect(verdict(a)).toEqual({ score: 90, level: 'high', action: 'block', factors: { app_reported: 0 }, lock: false, block: false });
    expect(a.factors[0]).toMatchObject({ reason: 'the sending app scored it 90', value: 90 });
  });

  it('does not lower a higher score of our own', () => {
    expect(scoreEvent(login({ ip: BAD_IP, appScore: 10 }), signals(), policy()).score).toBe(80);
  });
});

describe('properties of every score', () => {
  const observation = fc.record({
    isFailure: fc.boolean(),
    subject: fc.constantFrom<string | null>('u1', 'email:x@example.com', null),
    ip: fc.constantFrom<string | null>('198.51.100.7', '127.0.0.1', BAD_IP, V6, '2001:db8:9:1::5', null),
    coordinates: fc.constantFrom(null, PARIS, NEW_YORK, LONDON),
    // Mostly none: an app's score is a floor that would hide our own.
    appScore: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 100 }), weight: 1 }),
    atHoursAgo: fc.double({ min: 0, max: 48, noNaN: true }),
  });
  const counts = fc.record({
    accountFailures: fc.nat(30),
    accountFailureIps: fc.nat(10),
    ipFailedAccounts: fc.nat(20),
    ipAttemptsPerMinute: fc.nat(100),
    siteFailedAccounts: fc.nat(300),
    siteAttemptsPerMinute: fc.nat(1500),
  });
  const history = fc.record({
    knownDevices: fc.nat(3),
    deviceKnown: fc.constantFrom(null, true, false),
    knownNetworks: fc.nat(3),
    networkKnown: fc.constantFrom(null, true, false),
    previousLocation: fc.constantFrom(null, PARIS, NEW_YORK),
  });
  const lockoutThreshold = fc.integer({ min: 1, max: 20 });

  const anyCase = fc.record({ o: observation, c: counts, h: history, threshold: lockoutThreshold });
  type Case = typeof anyCase extends fc.Arbitrary<infer T> ? T : never;
  const build = ({ o, c, h, threshold }: Case): [RiskObservation, RiskSignals, RiskPolicy] => [
    login({ isFailure: o.isFailure, isSuccess: !o.isFailure, subject: o.subject, userId: o.subject, ip: o.ip, coordinates: o.coordinates, appScore: o.appScore }),
    signals({ ...c, ...h, previousLocation: h.previousLocation && { ...h.previousLocation, at: NOW - o.atHoursAgo * HOUR } }),
    policy({ lockout: { ...DEFAULT_LOCKOUT_POLICY, threshold } }),
  ];
  const rank: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2 };

  it('is the sum of its factors, capped at 100, with the app score as a floor; its level and action follow from it', () => {
    fc.assert(
      fc.property(anyCase, (k) => {
        const a = scoreEvent(...build(k));
        const sum = a.factors.reduce((total, f) => total + f.points, 0);
        expect(a.score).toBe(Math.max(Math.min(100, sum), k.o.appScore));
        expect(a.score).toBeGreaterThanOrEqual(0);
        expect(a.score).toBeLessThanOrEqual(100);
        expect(a.level).toBe(levelOf(a.score));
        expect(a.action).toBe(a.lockAccount || a.blockIp || a.blockSite ? 'block' : { low: 'none', medium: 'step_up', high: 'block' }[a.level]);
      }),
    );
  });

  it('never goes down with more failures, more IPs, more accounts or a faster attempt rate', () => {
    const more = fc.record({
      accountFailures: fc.nat(10),
      accountFailureIps: fc.nat(5),
      ipFailedAccounts: fc.nat(10),
      ipAttemptsPerMinute: fc.nat(50),
      siteFailedAccounts: fc.nat(100),
      siteAttemptsPerMinute: fc.nat(500),
      nowFails: fc.boolean(),
    });
    fc.assert(
      fc.property(anyCase, more, (k, d) => {
        const before = scoreEvent(...build(k));
        const worse: Case = {
          ...k,
          o: { ...k.o, isFailure: k.o.isFailure || d.nowFails },
          c: {
            accountFailures: k.c.accountFailures + d.accountFailures,
            accountFailureIps: k.c.accountFailureIps + d.accountFailureIps,
            ipFailedAccounts: k.c.ipFailedAccounts + d.ipFailedAccounts,
            ipAttemptsPerMinute: k.c.ipAttemptsPerMinute + d.ipAttemptsPerMinute,
            siteFailedAccounts: k.c.siteFailedAccounts + d.siteFailedAccounts,
            siteAttemptsPerMinute: k.c.siteAttemptsPerMinute + d.siteAttemptsPerMinute,
          },
        };
        const after = scoreEvent(...build(worse));
        expect(after.score).toBeGreaterThanOrEqual(before.score);
        expect(rank[after.level]).toBeGreaterThanOrEqual(rank[before.level]);
        // Enforcement already decided is not taken back by a worse event.
        if (before.lockAccount) expect(after.lockAccount).toBe(true);
        if (before.blockIp) expect(after.blockIp).toBe(true);
        if (before.blockSite) expect(after.blockSite).toBe(true);
      }),
    );
  });

  it('never goes down as any one count grows, step by step', () => {
    const names = ['accountFailures', 'accountFailureIps', 'ipFailedAccounts', 'ipAttemptsPerMinute', 'siteFailedAccounts', 'siteAttemptsPerMinute'] as const;
    fc.assert(
      fc.property(anyCase, fc.constantFrom(...names), (k, name) => {
        const scores = Array.from({ length: 71 }, (_, n) => scoreEvent(...build({ ...k, c: { ...k.c, [name]: n } })).score);
        expect(scores).toEqual([...scores].sort((a, b) => a - b));
      }),
      { numRuns: 40 },
    );
  });

  it('never goes down with a stricter lockout threshold', () => {
    fc.assert(
      fc.property(anyCase, fc.nat(10), (k, stricter) => {
        const lenient = scoreEvent(...build({ ...k, threshold: k.threshold + stricter }));
        const strict = scoreEvent(...build(k));
        expect(strict.score).toBeGreaterThanOrEqual(lenient.score);
      }),
    );
  });

  it('blocks an account that reached the lockout threshold, whatever else is true', () => {
    fc.assert(
      fc.property(anyCase, (k) => {
        fc.pre(k.o.subject !== null);
        const a = scoreEvent(...build({ ...k, c: { ...k.c, accountFailures: Math.max(k.c.accountFailures, k.threshold) } }));
        expect(a.lockAccount).toBe(true);
        expect(a.action).toBe('block');
      }),
    );
  });

  it('blocks an IPv6 attacker by its /64, unless a never-block address shares that /64 (the block would shut it out too)', () => {
    const stuffing = signals({ accountFailures: 1, accountFailureIps: 1, ipFailedAccounts: 10 });
    const monitored = policy({ neverBlockIps: IpList.parse('127.0.0.1, ::1, 2001:db8:5:6::10') });
    expect(scoreEvent(failed({ ip: '2001:db8:5:6::bad' }), stuffing, monitored).blockIp).toBe(false);
    expect(scoreEvent(failed({ ip: '2001:db8:5:7::bad' }), stuffing, monitored).blockIp).toBe(true);
    // A never-block range holding the /64 spares it as well.
    expect(scoreEvent(failed({ ip: '2001:db8:5:7::bad' }), stuffing, policy({ neverBlockIps: IpList.parse('2001:db8:5::/48') })).blockIp).toBe(false);
  });

  it('never blocks a never-block address, nor locks an event with no account', () => {
    fc.assert(
      fc.property(anyCase, (k) => {
        expect(scoreEvent(...build({ ...k, o: { ...k.o, ip: '127.0.0.1' } })).blockIp).toBe(false);
        expect(scoreEvent(...build({ ...k, o: { ...k.o, subject: null } })).lockAccount).toBe(false);
      }),
    );
  });
});
