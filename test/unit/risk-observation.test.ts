import { RISK_COLUMNS } from '../../src/domain/row-hash';
import { coordinatesOf, distanceKm } from '../../src/features/risk/domain/geo';
import { IpList, networkOf, normalizeIp } from '../../src/domain/network';
import { publicDecision, riskColumns, type RiskDecision } from '../../src/features/risk/domain/risk-decision';
import { toObservation } from '../../src/features/risk/domain/risk-observation';
import { queuedEvent } from './support/events';

const RECEIVED = '2026-11-22T12:00:00.000Z';
const observe = (raw: Record<string, unknown>, sourceApp = 'shop') => toObservation(queuedEvent(raw), sourceApp, RECEIVED);
const failedLogin = (over: Record<string, unknown> = {}) => ({ kind: 'failed_login', email_address: 'Zoe@Example.com', failure_reason: 'INVALID_PASSWORD', ip_address: '198.51.100.7', ...over });
const auth = (eventType: string, over: Record<string, unknown> = {}) => ({ kind: 'auth', event_type: eventType, user_id: 'u1', ip_address: '198.51.100.7', ...over });

describe('what the risk worker reads from an event', () => {
  it('scores only auth and failed_login events', () => {
    expect(observe({ kind: 'audit', event_type: 'login', user_id: 'u1' })).toBeNull();
    expect(observe({ kind: 'security', event_type: 'SUSPICIOUS_ACTIVITY', severity_level: 'HIGH' })).toBeNull();
  });

  it('a wrong password is a failed guess at the account, known by its email when there is no user id', () => {
    expect(observe(failedLogin())).toMatchObject({ isFailure: true, isAttempt: true, isSuccess: false, subject: 'email:zoe@example.com', email: 'zoe@example.com', userId: null });
    expect(observe(failedLogin({ user_id: 'u9' }))).toMatchObject({ subject: 'u9', userId: 'u9' });
  });

  it.each(['IP_BLOCKED', 'ACCOUNT_LOCKED', 'ACCOUNT_DISABLED', 'EMAIL_NOT_VERIFIED', 'STEP_UP_REQUIRED'])('a login refused as %s is an attempt but not a guess', (reason) => {
    expect(observe(failedLogin({ failure_reason: reason }))).toMatchObject({ isFailure: false, isAttempt: true });
  });

  it('an auth event is a failure by its status, inferred from its type when not sent', () => {
    expect(observe(auth('login_failed'))).toMatchObject({ isFailure: true, isSuccess: false, isAttempt: true });
    expect(observe(auth('login', { event_status: 'FAILURE' }))).toMatchObject({ isFailure: true, isSuccess: false });
    expect(observe(auth('login_success'))).toMatchObject({ isFailure: false, isSuccess: true, isAttempt: true });
    expect(observe(auth('login_failed', { details: { reason: 'ACCOUNT_LOCKED' } }))).toMatchObject({ isFailure: false, isAttempt: true });
  });

  it('a logout or a password change is not a login attempt', () => {
    expect(observe(auth('logout'))).toMatchObject({ isAttempt: false, isSuccess: false, isFailure: false });
    expect(observe(auth('password_changed'))).toMatchObject({ isAttempt: false, isSuccess: false });
  });

  it('counts one attempt reported twice (a failed_login and an auth event with the same request id) once', () => {
    const a = observe(failedLogin({ metadata: { request_id: 'req-1' } }))!;
    const b = observe(auth('login_failed', { details: { request_id: 'req-1' } }))!;
    expect(a.attemptKey).toBe('shop|req-1');
    expect(b.attemptKey).toBe(a.attemptKey);
    // The same request id from another app is another attempt.
    expect(observe(failedLogin({ metadata: { request_id: 'req-1' } }), 'crm')!.attemptKey).not.toBe(a.attemptKey);
  });

  it('reads ::ffff:1.2.3.4 and 1.2.3.4 as one address, and its network as the /24', () => {
    expect(observe(failedLogin({ ip_address: '::ffff:198.51.100.7' }))).toMatchObject({ ip: '198.51.100.7', network: '198.51.100.0/24' });
    expect(observe(failedLogin({ ip_address: '2001:db8:abcd:12::1' }))).toMatchObject({ network: '2001:db8:abcd::/48' });
  });

  it('never dates an event after its receipt: a client clock running ahead does not skew the windows', () => {
    expect(observe(auth('login', { occurred_at: '2030-01-01T00:00:00Z' }))!.at).toBe(Date.parse(RECEIVED));
    expect(observe(auth('login', { occurred_at: '2026-11-22T11:59:00Z' }))!.at).toBe(Date.parse('2026-11-22T11:59:00Z'));
  });

  it('takes the device and the place from the event or its details', () => {
    expect(observe(auth('login', { device_fingerprint: 'dev-1', location: { lat: 48.85, lon: 2.35, city: 'Paris' } }))).toMatchObject({ device: 'dev-1', coordinates: { lat: 48.85, lon: 2.35 } });
    expect(observe(auth('login', { details: { device_fingerprint: 'dev-2', location: { latitude: 1, longitude: 2 } } }))).toMatchObject({ device: 'dev-2', coordinates: { lat: 1, lon: 2 } });
  });

  it("keeps the app's own score, and whether the login passed a step-up", () => {
    expect(observe(auth('login', { risk_score: 65, details: { step_up: 'mail' } }))).toMatchObject({ appScore: 65, steppedUp: true });
    expect(observe(auth('login'))).toMatchObject({ appScore: 0, steppedUp: false });
  });
});

describe('coordinates and distances', () => {
  it.each([
    [
      { lat: 45.76, lon: 4.84 },
      { lat: 45.76, lon: 4.84 },
    ],
    [
      { latitude: '45.76', lng: '4.84' },
      { lat: 45.76, lon: 4.84 },
    ],
    [
      { lat: 0, lon: 0 },
      { lat: 0, lon: 0 },
    ],
    [{ lat: 45.76 }, null],
    [{ city: 'Lyon' }, null],
    [{ lat: 91, lon: 0 }, null],
    [{ lat: 0, lon: 181 }, null],
    [{ lat: 'north', lon: 1 }, null],
    ['Lyon', null],
    [null, null],
  ])('%j is %j', (location, expected) => expect(coordinatesOf(location)).toEqual(expected));

  it('measures great-circle distances', () => {
    expect(distanceKm({ lat: 48.8566, lon: 2.3522 }, { lat: 40.7128, lon: -74.006 })).toBeCloseTo(5837, -1);
    expect(distanceKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(Math.PI * 6371, 0);
    expect(distanceKm({ lat: 10, lon: 10 }, { lat: 10, lon: 10 })).toBe(0);
  });
});

describe('addresses and lists of them', () => {
  it('normalizes each address to one spelling, and refuses what is not one', () => {
    expect(normalizeIp('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeIp('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(normalizeIp('10.0.0.256')).toBeNull();
    expect(networkOf('not an ip')).toBeNull();
  });

  it('matches single addresses and ranges, across IPv4-mapped spellings', () => {
    const list = IpList.parse('192.0.2.1, 203.0.113.0/24\n2001:db8::/32 ::ffff:198.51.100.9');
    expect(list.size).toBe(4);
    expect(['192.0.2.1', '203.0.113.200', '::ffff:203.0.113.5', '2001:db8:1::7', '198.51.100.9'].filter((ip) => list.has(ip))).toHaveLength(5);
    expect(['192.0.2.2', '203.0.114.1', '2001:db9::1', 'garbage'].some((ip) => list.has(ip))).toBe(false);
  });

  it('reports invalid entries instead of ignoring them', () => {
    const list = IpList.parse('10.0.0.1, 10.0.0.999, 10.0.0.0/33, example.com');
    expect(list.invalid).toEqual(['10.0.0.999', '10.0.0.0/33', 'example.com']);
    expect(list.size).toBe(1);
  });
});

describe('a risk decision, as stored and as shown', () => {
  const decision: RiskDecision = {
    observation: toObservation(queuedEvent(failedLogin({ event_id: '6f1d7b0e-1c2a-4c3b-8d4e-5f6a7b8c9d0e', occurred_at: '2026-11-22T11:59:30.000Z' })), 'shop', RECEIVED)!,
    assessment: {
      score: 55,
      level: 'medium',
      action: 'block',
      factors: [
        { signal: 'failed_attempt', points: 5, reason: 'a failed login', scope: 'account' },
        { signal: 'ip_many_accounts', points: 50, reason: '5 accounts failed from this IP in 60 min', scope: 'ip', value: 5, threshold: 5 },
      ],
      lockAccount: false,
      blockIp: true,
      blockSite: false,
    },
    mode: 'audit_only',
    decidedAt: new Date('2026-11-22T12:00:01.250Z'),
  };

  it('is stored in exactly the columns the row hash seals', () => {
    expect(Object.keys(riskColumns(decision)).sort()).toEqual([...RISK_COLUMNS].sort());
  });

  it('stores factors and reasons as maps by signal, and the time in ClickHouse form', () => {
    expect(riskColumns(decision)).toEqual({
      risk_score: 55,
      risk_level: 'medium',
      risk_action: 'block',
      risk_mode: 'audit_only',
      risk_factors: { failed_attempt: 5, ip_many_accounts: 50 },
      risk_reasons: { failed_attempt: 'a failed login', ip_many_accounts: '5 accounts failed from this IP in 60 min' },
      risk_decided_at: '2026-11-22 12:00:01.250',
    });
  });

  it('shows the subject API and webhooks the factors, without internal scope and tiers', () => {
    expect(publicDecision(decision)).toEqual({
      event_id: '6f1d7b0e-1c2a-4c3b-8d4e-5f6a7b8c9d0e',
      occurred_at: '2026-11-22T11:59:30.000Z',
      decided_at: '2026-11-22T12:00:01.250Z',
      risk_score: 55,
      risk_level: 'medium',
      risk_action: 'block',
      mode: 'audit_only',
      factors: [
        { signal: 'failed_attempt', points: 5, reason: 'a failed login' },
        { signal: 'ip_many_accounts', points: 50, reason: '5 accounts failed from this IP in 60 min' },
      ],
    });
  });
});
